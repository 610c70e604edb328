#!/usr/bin/python3
"""Train a fraud classifier with scikit-learn, track it with the MLflow
client in switchyard, and register it: the training script of
docs/tracking.md. Needs only the MLflow client, scikit-learn, pandas and
onnx; the tracking URI comes from $MLFLOW_TRACKING_URI.

    MLFLOW_TRACKING_URI=http://localhost:8080 python3 train.py [--seed N] [--broken]

--seed N trains from another seed (default 7): a retrain. --broken
publishes a model whose weights were shuffled after training, which the
gate must stop.
"""
import sys

import mlflow
import mlflow.onnx
import numpy as np
import onnx
import pandas as pd
from mlflow.models import infer_signature
from onnx import TensorProto, helper, numpy_helper
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.neural_network import MLPClassifier

FEATURES = ["amount", "age_days", "tx_24h", "card_present",
            "hour", "merchant_risk", "distance_km", "velocity"]


def transactions(n, seed):
    """Synthetic card transactions and whether each was fraud."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "amount": rng.gamma(2.0, 60.0, n),
        "age_days": rng.uniform(0, 3000, n),
        "tx_24h": rng.poisson(3, n).astype(float),
        "card_present": rng.integers(0, 2, n).astype(float),
        "hour": rng.integers(0, 24, n).astype(float),
        "merchant_risk": rng.beta(2, 5, n),
        "distance_km": rng.exponential(20, n),
        "velocity": rng.exponential(1.0, n),
    })
    z = (0.012 * df.amount - 0.001 * df.age_days + 0.3 * df.tx_24h
         - 1.2 * df.card_present + 3.0 * df.merchant_risk + 0.02 * df.distance_km - 2.5)
    df["label"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-z))).astype(int)
    return df


def to_onnx(mlp, mean, std):
    """The trained network as an ONNX graph: standardise, one ReLU layer,
    a logistic output, then [P(legit), P(fraud)]."""
    f32 = lambda a: np.asarray(a, dtype=np.float32)
    inits = [numpy_helper.from_array(f32(a), n) for n, a in [
        ("mean", mean), ("std", std), ("w1", mlp.coefs_[0]), ("b1", mlp.intercepts_[0]),
        ("w2", mlp.coefs_[1]), ("b2", mlp.intercepts_[1]), ("one", [1.0])]]
    nodes = [
        helper.make_node("Sub", ["input", "mean"], ["centred"]),
        helper.make_node("Div", ["centred", "std"], ["scaled"]),
        helper.make_node("MatMul", ["scaled", "w1"], ["h0"]),
        helper.make_node("Add", ["h0", "b1"], ["h1"]),
        helper.make_node("Relu", ["h1"], ["h"]),
        helper.make_node("MatMul", ["h", "w2"], ["o0"]),
        helper.make_node("Add", ["o0", "b2"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["fraud"]),
        helper.make_node("Sub", ["one", "fraud"], ["legit"]),
        helper.make_node("Concat", ["legit", "fraud"], ["probabilities"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "fraud",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, len(FEATURES)])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main():
    broken = "--broken" in sys.argv
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 7
    train, evaluation = transactions(6000, seed=1), transactions(1000, seed=2)
    X, y = train[FEATURES], train["label"]
    mean, std = X.mean().values, X.std().values

    mlflow.set_experiment("fraud")
    with mlflow.start_run(run_name="mlp-broken" if broken else "mlp") as run:
        params = {"hidden": 32, "alpha": 1e-4, "max_iter": 300, "seed": seed}
        mlflow.log_params(params)
        mlp = MLPClassifier(hidden_layer_sizes=(params["hidden"],), alpha=params["alpha"],
                            max_iter=params["max_iter"], random_state=params["seed"])
        mlp.fit((X - mean) / std, y)
        if broken:  # what a bad merge does to a model: weights in the wrong places
            rng = np.random.default_rng(3)
            mlp.coefs_[0] = rng.permutation(mlp.coefs_[0].ravel()).reshape(mlp.coefs_[0].shape)
            mlp.coefs_[1] = -mlp.coefs_[1]
        p = mlp.predict_proba((evaluation[FEATURES] - mean) / std)[:, 1]
        mlflow.log_metrics({"accuracy": accuracy_score(evaluation["label"], p > 0.5),
                            "roc_auc": roc_auc_score(evaluation["label"], p)})

        mlflow.log_input(mlflow.data.from_pandas(train, name="transactions", targets="label"),
                         context="training")
        evaluation.to_csv("eval.csv", index=False)
        mlflow.log_artifact("eval.csv")
        mlflow.log_input(mlflow.data.from_pandas(evaluation, source="eval.csv", name="fraud-eval",
                                                 targets="label"), context="eval")

        model = to_onnx(mlp, mean, std)
        signature = infer_signature(X, mlp.predict_proba((X - mean) / std))
        info = mlflow.onnx.log_model(model, "model", signature=signature,
                                     metadata={"classes": ["legit", "fraud"]},
                                     registered_model_name="fraud")
    print("run", run.info.run_id, "model", info.model_uri)


if __name__ == "__main__":
    main()
