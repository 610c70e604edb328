package gate

import (
	"math"
	"testing"
)

func TestRMSEAndMAE(t *testing.T) {
	f := func(y, pred []float64, wantRMSE, wantMAE float64) {
		t.Helper()
		if got := RMSE(y, pred); !same(got, wantRMSE) {
			t.Fatalf("RMSE(%v, %v) = %v; want %v", y, pred, got, wantRMSE)
		}
		if got := MAE(y, pred); !same(got, wantMAE) {
			t.Fatalf("MAE(%v, %v) = %v; want %v", y, pred, got, wantMAE)
		}
	}
	// scikit-learn's example: errors 0.5, 0.5, 0, 1. MSE = 1.5/4 = 0.375,
	// RMSE = √0.375; MAE = 2/4 = 0.5.
	f([]float64{3, -0.5, 2, 7}, []float64{2.5, 0, 2, 8}, math.Sqrt(0.375), 0.5)
	// The same against the root_mean_squared_error scikit-learn prints
	// (0.612...), worked in decimal: √0.375 = 0.612372435695794524549.
	f([]float64{3, -0.5, 2, 7}, []float64{2.5, 0, 2, 8}, 0.61237243569579452455, 0.5)
	// Errors 3 and 4: RMSE = √(25/2), MAE = 3.5.
	f([]float64{0, 0}, []float64{3, -4}, math.Sqrt(12.5), 3.5)
	f([]float64{1, 2, 3}, []float64{1, 2, 3}, 0, 0) // exact
	f([]float64{5, 5, 5}, []float64{5, 5, 5}, 0, 0) // constant y
	f([]float64{2}, []float64{4}, 2, 2)             // one row
	f(nil, nil, math.NaN(), math.NaN())
	f([]float64{1, 2}, []float64{1}, math.NaN(), math.NaN())
	f([]float64{1, math.NaN()}, []float64{1, 2}, math.NaN(), math.NaN())
	f([]float64{1, 2}, []float64{1, math.Inf(1)}, math.Inf(1), math.Inf(1))
}

func TestR2(t *testing.T) {
	f := func(y, pred []float64, want float64) {
		t.Helper()
		if got := R2(y, pred); !same(got, want) {
			t.Fatalf("R2(%v, %v) = %v; want %v", y, pred, got, want)
		}
	}
	// scikit-learn's r2_score example: mean 2.875; SS_tot = 0.125² + 3.375² +
	// 0.875² + 4.125² = 29.1875; SS_res = 0.25 + 0.25 + 0 + 1 = 1.5;
	// R² = 1 − 1.5/29.1875 ≈ 0.948608.
	f([]float64{3, -0.5, 2, 7}, []float64{2.5, 0, 2, 8}, 1-1.5/29.1875)
	// The same against the value scikit-learn prints (0.948...), worked in
	// decimal to 30 digits: 0.948608137044967880085653104925.
	f([]float64{3, -0.5, 2, 7}, []float64{2.5, 0, 2, 8}, 0.94860813704496788009)
	f([]float64{1, 2, 3}, []float64{1, 2, 3}, 1) // exact
	f([]float64{1, 2, 3}, []float64{2, 2, 2}, 0) // the mean
	// Reversed: SS_res = 4 + 0 + 4 = 8, SS_tot = 2, R² = 1 − 4 = −3.
	f([]float64{1, 2, 3}, []float64{3, 2, 1}, -3)
	// Constant y, following scikit-learn's force_finite: 1 if exact, else 0.
	f([]float64{2, 2, 2}, []float64{2, 2, 2}, 1)
	f([]float64{2, 2, 2}, []float64{1, 2, 3}, 0)
	// A constant y whose computed mean is not exactly 0.1 is still constant.
	f([]float64{0.1, 0.1, 0.1}, []float64{0.1, 0.1, 0.1}, 1)
	f([]float64{0.1, 0.1, 0.1}, []float64{0.1, 0.1, 0.2}, 0)
	// scikit-learn's r2_score examples of a constant y: exact predictions
	// give 1.0, predictions off by 1e-8 give 0.0.
	f([]float64{-2, -2, -2}, []float64{-2, -2, -2}, 1)
	f([]float64{-2, -2, -2}, []float64{-2, -2, -2 + 1e-8}, 0)
	// Fewer than two rows, like scikit-learn.
	f([]float64{1}, []float64{1}, math.NaN())
	f(nil, nil, math.NaN())
	f([]float64{1, 2}, []float64{1}, math.NaN())
	f([]float64{1, math.NaN()}, []float64{1, 2}, math.NaN())
	f([]float64{2, 2}, []float64{2, math.NaN()}, math.NaN()) // constant y, NaN prediction
}
