package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/switchyard-ml/switchyard/modelstore"
)

// kubeDir is the kustomize base.
const kubeDir = "kubernetes"

// kustomization is the part of kustomize's Kustomization that the base
// uses; decoded strictly, a field it does not name fails.
type kustomization struct {
	metav1.TypeMeta `json:",inline"`
	Namespace       string   `json:"namespace"`
	Resources       []string `json:"resources"`
	Labels          []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors"`
	} `json:"labels"`
	Images []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
}

// serviceMonitor is the part of the Prometheus Operator's ServiceMonitor
// (monitoring.coreos.com/v1) that the base uses, a CRD whose Go types
// this module does not import.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector  metav1.LabelSelector `json:"selector"`
		Endpoints []struct {
			Port     string `json:"port"`
			Path     string `json:"path"`
			Interval string `json:"interval"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// newObject returns an empty object of the Go type that apiVersion and
// kind name.
func newObject(apiVersion, kind string) (any, error) {
	switch apiVersion + " " + kind {
	case "v1 Namespace":
		return &corev1.Namespace{}, nil
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "v1 PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}, nil
	case "v1 Service":
		return &corev1.Service{}, nil
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}, nil
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}, nil
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, nil
	case "monitoring.coreos.com/v1 ServiceMonitor":
		return &serviceMonitor{}, nil
	case "kustomize.config.k8s.io/v1beta1 Kustomization":
		return &kustomization{}, nil
	}
	return nil, fmt.Errorf("unknown kind %q of apiVersion %q", kind, apiVersion)
}

// decodeManifest decodes one YAML manifest strictly into the type its
// apiVersion and kind name: an unknown or repeated field fails.
func decodeManifest(data []byte) (any, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(data, &tm); err != nil {
		return nil, err
	}
	obj, err := newObject(tm.APIVersion, tm.Kind)
	if err != nil {
		return nil, err
	}
	if err := yaml.UnmarshalStrict(data, obj); err != nil {
		return nil, fmt.Errorf("%s: %w", tm.Kind, err)
	}
	return obj, nil
}

// kubeBase is the kustomize base, decoded.
type kubeBase struct {
	kustomization *kustomization
	deployment    *appsv1.Deployment
	service       *corev1.Service
	configMap     *corev1.ConfigMap
	pvc           *corev1.PersistentVolumeClaim
	hpa           *autoscalingv2.HorizontalPodAutoscaler
	pdb           *policyv1.PodDisruptionBudget
	monitor       *serviceMonitor
}

// readKubeBase decodes the kustomization and each resource it lists,
// failing the test on the first that does not decode strictly, on a
// manifest file the kustomization leaves out and on a kind that appears
// twice.
func readKubeBase(t *testing.T) *kubeBase {
	t.Helper()
	var b kubeBase
	k, err := readManifest(filepath.Join(kubeDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var ok bool
	if b.kustomization, ok = k.(*kustomization); !ok {
		t.Fatalf("kustomization.yaml holds a %T, not a Kustomization", k)
	}
	files, err := filepath.Glob(filepath.Join(kubeDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if name := filepath.Base(f); name != "kustomization.yaml" && !slices.Contains(b.kustomization.Resources, name) {
			t.Errorf("%s is not among kustomization.yaml's resources", f)
		}
	}
	for _, name := range b.kustomization.Resources {
		obj, err := readManifest(filepath.Join(kubeDir, name))
		if err != nil {
			t.Error(err)
			continue
		}
		var dup bool
		switch o := obj.(type) {
		case *appsv1.Deployment:
			dup, b.deployment = b.deployment != nil, o
		case *corev1.Service:
			dup, b.service = b.service != nil, o
		case *corev1.ConfigMap:
			dup, b.configMap = b.configMap != nil, o
		case *corev1.PersistentVolumeClaim:
			dup, b.pvc = b.pvc != nil, o
		case *autoscalingv2.HorizontalPodAutoscaler:
			dup, b.hpa = b.hpa != nil, o
		case *policyv1.PodDisruptionBudget:
			dup, b.pdb = b.pdb != nil, o
		case *serviceMonitor:
			dup, b.monitor = b.monitor != nil, o
		}
		if dup {
			t.Errorf("%s: a second %T; the tests expect one", name, obj)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	for what, missing := range map[string]bool{"Deployment": b.deployment == nil, "Service": b.service == nil,
		"ConfigMap": b.configMap == nil, "PersistentVolumeClaim": b.pvc == nil, "HorizontalPodAutoscaler": b.hpa == nil,
		"PodDisruptionBudget": b.pdb == nil, "ServiceMonitor": b.monitor == nil} {
		if missing {
			t.Errorf("the base has no %s", what)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return &b
}

// readManifest reads and decodes the manifest at path.
func readManifest(path string) (any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	obj, err := decodeManifest(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return obj, nil
}

// TestKubernetesManifests decodes every manifest of the base strictly into
// its k8s.io/api type, and checks that the pieces refer to each other:
// selectors select the pods, ports and volumes name what exists.
func TestKubernetesManifests(t *testing.T) {
	b := readKubeBase(t)
	pod := b.deployment.Spec.Template
	podLabels := pod.Labels
	selects := func(what string, sel *metav1.LabelSelector, labels map[string]string) {
		t.Helper()
		if sel == nil || len(sel.MatchLabels) == 0 {
			t.Errorf("%s selects nothing", what)
			return
		}
		for k, v := range sel.MatchLabels {
			if labels[k] != v {
				t.Errorf("%s selects %s=%s, which %v lacks", what, k, v, labels)
			}
		}
	}
	selects("the Deployment", b.deployment.Spec.Selector, podLabels)
	selects("the Service", &metav1.LabelSelector{MatchLabels: b.service.Spec.Selector}, podLabels)
	selects("the PodDisruptionBudget", b.pdb.Spec.Selector, podLabels)
	selects("the ServiceMonitor", &b.monitor.Spec.Selector, b.service.Labels)

	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("the pod has %d containers; want 1", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	ports := map[string]bool{}
	for _, p := range c.Ports {
		ports[p.Name] = true
	}
	for _, sp := range b.service.Spec.Ports {
		if !ports[sp.TargetPort.String()] {
			t.Errorf("the Service's port %s targets %s, which the container does not name", sp.Name, sp.TargetPort.String())
		}
		for _, e := range b.monitor.Spec.Endpoints {
			if e.Port != sp.Name {
				t.Errorf("the ServiceMonitor scrapes port %q; the Service's is %q", e.Port, sp.Name)
			}
			if e.Path != "/metrics" {
				t.Errorf("the ServiceMonitor scrapes %q; want /metrics", e.Path)
			}
		}
	}
	for name, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		switch {
		case p == nil || p.HTTPGet == nil:
			t.Errorf("the container has no HTTP %s probe", name)
		case !ports[p.HTTPGet.Port.String()]:
			t.Errorf("the %s probe's port %s is not the container's", name, p.HTTPGet.Port.String())
		}
	}
	if p := c.ReadinessProbe; p != nil && p.HTTPGet != nil && !strings.Contains(p.HTTPGet.Path, "ready") {
		t.Errorf("the readiness probe asks %s, not a readiness path", p.HTTPGet.Path)
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("the container's resources %+v lack a CPU or memory request or a memory limit", c.Resources)
	}
	if sc := pod.Spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Error("the pod may run as root")
	}

	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = v
	}
	for _, m := range c.VolumeMounts {
		v, ok := volumes[m.Name]
		switch {
		case !ok:
			t.Errorf("the container mounts volume %q, which the pod lacks", m.Name)
		case v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName != b.pvc.Name:
			t.Errorf("volume %q claims %q; the claim is %q", m.Name, v.PersistentVolumeClaim.ClaimName, b.pvc.Name)
		case v.ConfigMap != nil && v.ConfigMap.Name != b.configMap.Name:
			t.Errorf("volume %q mounts ConfigMap %q; the base has %q", m.Name, v.ConfigMap.Name, b.configMap.Name)
		case v.ConfigMap != nil && b.configMap.Data[m.SubPath] == "":
			t.Errorf("the container mounts key %q of ConfigMap %q, which it lacks", m.SubPath, b.configMap.Name)
		}
	}
	if !slices.Contains(b.pvc.Spec.AccessModes, corev1.ReadWriteMany) {
		t.Errorf("the registry's claim is %v: replicas on several nodes need ReadWriteMany", b.pvc.Spec.AccessModes)
	}

	ref := b.hpa.Spec.ScaleTargetRef
	if ref.Kind != "Deployment" || ref.Name != b.deployment.Name {
		t.Errorf("the HorizontalPodAutoscaler scales %s %s; want Deployment %s", ref.Kind, ref.Name, b.deployment.Name)
	}
	if min := b.hpa.Spec.MinReplicas; min == nil || *min < 2 {
		t.Errorf("the HorizontalPodAutoscaler may scale to fewer than 2 replicas, which the PodDisruptionBudget would block drains of")
	}
}

// TestKubernetesPolicy parses each model policy the ConfigMap holds as the
// server does: strictly, so a misspelt key fails here, not in a pod.
func TestKubernetesPolicy(t *testing.T) {
	b := readKubeBase(t)
	if len(b.configMap.Data) == 0 {
		t.Fatal("the ConfigMap holds no policy")
	}
	for key, text := range b.configMap.Data {
		if !strings.HasSuffix(key, "."+modelstore.PolicyFile) {
			t.Errorf("key %q: want MODEL.%s", key, modelstore.PolicyFile)
		}
		if _, err := modelstore.ParsePolicy([]byte(text)); err != nil {
			t.Errorf("key %q: %v", key, err)
		}
	}
}

// TestKubernetesDecodeFailure proves that decodeManifest refuses what
// kubectl's strict validation would: a misspelt field, a repeated one, a
// value of the wrong type, an unknown kind.
func TestKubernetesDecodeFailure(t *testing.T) {
	f := func(manifest, want string) {
		t.Helper()
		_, err := decodeManifest([]byte(manifest))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("decodeManifest(%q) = %v; want an error naming %q", manifest, err, want)
		}
	}
	f("apiVersion: apps/v1\nkind: Deployment\nspec:\n  replica: 2\n", `"replica"`)
	f("apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      terminationGracePeriod: 60\n", `"terminationGracePeriod"`)
	f("apiVersion: v1\nkind: Service\nspec:\n  type: ClusterIP\n  type: NodePort\n", `"type"`)
	f("apiVersion: policy/v1\nkind: PodDisruptionBudget\nspec:\n  maxUnavailable: [1]\n", "PodDisruptionBudget")
	f("apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nspec:\n  endpoints:\n    - port: http\n      scrapeTimeoutz: 5s\n", `"scrapeTimeoutz"`)
	f("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresource: [a.yaml]\n", `"resource"`)
	f("apiVersion: apps/v1\nkind: Deploymnet\n", `unknown kind "Deploymnet"`)
}

// serveFlags are the serve flags that shape a replica's shutdown, with
// their defaults (cmd/switchyard/serve.go).
var serveFlags = map[string]time.Duration{"drain-delay": 5 * time.Second, "shutdown-timeout": 30 * time.Second}

// shutdownTime returns how long a replica serving with args may take to
// stop after SIGTERM: --drain-delay, then --shutdown-timeout.
func shutdownTime(args []string) (time.Duration, error) {
	d := map[string]time.Duration{}
	for k, v := range serveFlags {
		d[k] = v
	}
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if _, ok := d[name]; !ok || !strings.HasPrefix(args[i], "-") {
			continue
		}
		if !hasValue {
			if i+1 == len(args) {
				return 0, fmt.Errorf("%s has no value", args[i])
			}
			i++
			value = args[i]
		}
		v, err := time.ParseDuration(value)
		if err != nil {
			return 0, fmt.Errorf("--%s: %w", name, err)
		}
		d[name] = v
	}
	return d["drain-delay"] + d["shutdown-timeout"], nil
}

// graceCovers returns an error unless the pod's termination grace period
// exceeds the time its container's args let the server take to stop.
func graceCovers(spec corev1.PodSpec) error {
	stop, err := shutdownTime(spec.Containers[0].Args)
	if err != nil {
		return err
	}
	grace := 30 * time.Second // Kubernetes' default
	if spec.TerminationGracePeriodSeconds != nil {
		grace = time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
	}
	if grace <= stop {
		return fmt.Errorf("terminationGracePeriodSeconds is %s, not more than the %s that --drain-delay and --shutdown-timeout allow: the kubelet would kill requests in flight", grace, stop)
	}
	return nil
}

// TestKubernetesGracePeriod checks that the kubelet waits for a replica
// to drain before it kills it.
func TestKubernetesGracePeriod(t *testing.T) {
	b := readKubeBase(t)
	if err := graceCovers(b.deployment.Spec.Template.Spec); err != nil {
		t.Error(err)
	}
}

// TestGraceCoversFailure proves that graceCovers catches a grace period
// that the server's drain outlasts, whatever form the flags take.
func TestGraceCoversFailure(t *testing.T) {
	f := func(grace *int64, args ...string) {
		t.Helper()
		spec := corev1.PodSpec{TerminationGracePeriodSeconds: grace, Containers: []corev1.Container{{Args: args}}}
		if err := graceCovers(spec); err == nil {
			t.Errorf("graceCovers(grace %v, args %q) = nil; want an error", grace, args)
		}
	}
	secs := func(n int64) *int64 { return &n }
	f(nil, "serve")                                  // 30s default grace, 35s default drain
	f(secs(40), "serve", "--drain-delay=10s")        // 40s drain
	f(secs(60), "serve", "--shutdown-timeout", "1m") // 65s drain
	f(secs(60), "serve", "-drain-delay", "soon")     // not a duration
	f(secs(60), "serve", "--shutdown-timeout")       // no value
	spec := corev1.PodSpec{TerminationGracePeriodSeconds: secs(41), Containers: []corev1.Container{{Args: []string{"--drain-delay=10s"}}}}
	if err := graceCovers(spec); err != nil {
		t.Errorf("graceCovers(41s, --drain-delay=10s) = %v; want nil", err)
	}
}
