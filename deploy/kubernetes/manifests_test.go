// Package kubernetes_test renders the kustomize layout of deploy/kubernetes
// (both overlays), decodes every manifest strictly into the Kubernetes API
// types, and checks what makes pods start and jobs behave: a numeric
// non-root user equal to the image's, probes, resources, Forbid CronJobs, a
// config that crmkpi parses, and secrets made from a local env file.
//
// It is its own module (deploy/go.mod), so the Kubernetes libraries stay
// out of crmkpi's binary and go.mod; .ci/run runs it.
package kubernetes_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/crmkpi/crmkpi/config"
)

// imageUser is the numeric uid:gid the Dockerfile runs as (distroless
// "nonroot").
const imageUser = 65532

// rendered is one overlay's output, decoded.
type rendered struct {
	cronJobs    []batchv1.CronJob
	deployments []appsv1.Deployment
	configMaps  []corev1.ConfigMap
	secrets     []corev1.Secret
	services    []corev1.Service
}

// render builds overlay as `kubectl apply -k` would, from a copy of this
// directory in memory in which base/secret.env is the example file (as an
// admin's first `cp secret.env.example secret.env` makes it).
func render(t *testing.T, overlay string) rendered {
	t.Helper()
	mem := filesys.MakeFsInMemory()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") && !strings.HasSuffix(path, ".example") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return mem.WriteFile("/"+filepath.ToSlash(path), b)
	})
	if err != nil {
		t.Fatal(err)
	}
	example, err := mem.ReadFile("/base/secret.env.example")
	if err != nil {
		t.Fatal(err)
	}
	if err := mem.WriteFile("/base/secret.env", example); err != nil {
		t.Fatal(err)
	}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(mem, "/overlays/"+overlay)
	if err != nil {
		t.Fatalf("kustomize build overlays/%s: %v", overlay, err)
	}
	var out rendered
	for _, r := range m.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		var dst any
		switch k := r.GetKind(); k {
		case "CronJob":
			out.cronJobs = append(out.cronJobs, batchv1.CronJob{})
			dst = &out.cronJobs[len(out.cronJobs)-1]
		case "Deployment":
			out.deployments = append(out.deployments, appsv1.Deployment{})
			dst = &out.deployments[len(out.deployments)-1]
		case "ConfigMap":
			out.configMaps = append(out.configMaps, corev1.ConfigMap{})
			dst = &out.configMaps[len(out.configMaps)-1]
		case "Secret":
			out.secrets = append(out.secrets, corev1.Secret{})
			dst = &out.secrets[len(out.secrets)-1]
		case "Service":
			out.services = append(out.services, corev1.Service{})
			dst = &out.services[len(out.services)-1]
		default:
			t.Fatalf("overlays/%s renders a %s (%s), which this test does not know", overlay, k, r.GetName())
		}
		strict(t, y, dst)
	}
	return out
}

// strict decodes a manifest refusing any field the API type lacks, as the
// API server's strict field validation does: a typo such as
// `concurencyPolicy` fails here rather than being dropped in the cluster.
func strict(t *testing.T, y []byte, dst any) {
	t.Helper()
	j, err := yaml.YAMLToJSON(y)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		t.Fatalf("strict decoding:\n%s\n%v", y, err)
	}
}

func TestCronJobsOverlay(t *testing.T) {
	r := render(t, "cronjobs")
	if len(r.deployments) != 0 {
		t.Errorf("cronjobs overlay renders %d Deployments, want none (apply one overlay: each runs every connector)", len(r.deployments))
	}
	cfg := checkConfig(t, r)
	var names []string
	for _, cj := range r.cronJobs {
		names = append(names, cj.Name)
		s := cj.Spec
		if s.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			t.Errorf("%s: concurrencyPolicy %q, want Forbid", cj.Name, s.ConcurrencyPolicy)
		}
		if s.StartingDeadlineSeconds == nil || *s.StartingDeadlineSeconds <= 0 {
			t.Errorf("%s: no startingDeadlineSeconds", cj.Name)
		}
		if s.TimeZone == nil || *s.TimeZone != cfg.Timezone {
			t.Errorf("%s: timeZone %v, want the config's %s", cj.Name, s.TimeZone, cfg.Timezone)
		}
		job := s.JobTemplate.Spec
		if job.ActiveDeadlineSeconds == nil || job.BackoffLimit == nil {
			t.Errorf("%s: want activeDeadlineSeconds and backoffLimit", cj.Name)
		}
		pod := job.Template.Spec
		if pod.RestartPolicy != corev1.RestartPolicyNever {
			t.Errorf("%s: restartPolicy %q, want Never", cj.Name, pod.RestartPolicy)
		}
		args := checkPod(t, cj.Name, pod, r)
		switch {
		case strings.HasPrefix(cj.Name, "crmkpi-sync-"):
			conn := strings.TrimPrefix(cj.Name, "crmkpi-sync-")
			// --skip-locked: a sync skipped because another holds the
			// connector (an admin's manual run) is not a failed Job; the
			// next one catches up, and status and metrics show the skip.
			if want := []string{"sync", "--connector", conn, "--skip-locked", "--config", "/etc/crmkpi/crmkpi.yaml"}; !slices.Equal(args, want) {
				t.Errorf("%s: args %q, want %q", cj.Name, args, want)
			}
			c := cfg.Connector(conn)
			if c == nil {
				t.Errorf("%s syncs connector %s, which the config does not have", cj.Name, conn)
			} else if s.Schedule != c.Schedule {
				t.Errorf("%s: schedule %q, config says %q", cj.Name, s.Schedule, c.Schedule)
			}
		case cj.Name == "crmkpi-notify":
			if args[0] != "notify" {
				t.Errorf("%s: args %q, want notify", cj.Name, args)
			}
			if s.Schedule != cfg.Notify.Slack.Schedule {
				t.Errorf("%s: schedule %q, config says %q", cj.Name, s.Schedule, cfg.Notify.Slack.Schedule)
			}
		default:
			t.Errorf("unexpected CronJob %s", cj.Name)
		}
	}
	// One sync CronJob per configured connector, and notify.
	want := []string{"crmkpi-notify"}
	for _, c := range cfg.Connectors {
		want = append(want, "crmkpi-sync-"+c.Name)
	}
	slices.Sort(want)
	slices.Sort(names)
	if !slices.Equal(names, want) {
		t.Errorf("CronJobs %q, want %q", names, want)
	}
}

func TestServeOverlay(t *testing.T) {
	r := render(t, "serve")
	if len(r.cronJobs) != 0 {
		t.Errorf("serve overlay renders %d CronJobs, want none", len(r.cronJobs))
	}
	checkConfig(t, r)
	if len(r.deployments) != 1 {
		t.Fatalf("serve overlay renders %d Deployments, want 1", len(r.deployments))
	}
	d := r.deployments[0]
	pod := d.Spec.Template.Spec
	args := checkPod(t, d.Name, pod, r)
	if len(args) == 0 || args[0] != "serve" || !slices.Contains(args, ":9090") {
		t.Errorf("args %q, want serve --listen :9090", args)
	}
	c := pod.Containers[0]
	if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" {
		t.Errorf("readinessProbe %+v, want GET /healthz", p)
	}
	if c.LivenessProbe == nil || c.StartupProbe == nil {
		t.Errorf("want liveness and startup probes")
	}
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != 9090 {
		t.Errorf("ports %+v, want 9090", c.Ports)
	}
	if sel := d.Spec.Selector.MatchLabels; sel["app"] != d.Spec.Template.Labels["app"] {
		t.Errorf("selector %v does not match the pod labels %v", sel, d.Spec.Template.Labels)
	}
	if len(r.services) != 1 || r.services[0].Spec.Selector["app"] != d.Spec.Template.Labels["app"] {
		t.Errorf("want one Service selecting the pods, got %+v", r.services)
	}
}

// checkPod checks what every crmkpi pod needs and returns its container's
// args.
func checkPod(t *testing.T, name string, pod corev1.PodSpec, r rendered) []string {
	t.Helper()
	sc := pod.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Errorf("%s: want runAsNonRoot", name)
	}
	// With runAsNonRoot, kubelet refuses an image whose USER is a name;
	// a numeric runAsUser makes the check possible.
	if sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != imageUser || sc.RunAsGroup == nil || *sc.RunAsGroup != imageUser {
		t.Errorf("%s: want runAsUser and runAsGroup %d", name, imageUser)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", name, len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.Image != "crmkpi:latest" {
		t.Errorf("%s: image %q", name, c.Image)
	}
	if c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem ||
		c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation {
		t.Errorf("%s: want a read-only root and no privilege escalation", name)
	}
	res := c.Resources
	for _, k := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := res.Requests[k]; !ok {
			t.Errorf("%s: no %s request", name, k)
		}
		if _, ok := res.Limits[k]; !ok {
			t.Errorf("%s: no %s limit", name, k)
		}
	}
	// The references kustomize rewrote to the generated (hashed) names
	// must name objects the overlay renders.
	if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef == nil || !slices.ContainsFunc(r.secrets, func(s corev1.Secret) bool { return s.Name == c.EnvFrom[0].SecretRef.Name }) {
		t.Errorf("%s: envFrom %+v names no rendered Secret", name, c.EnvFrom)
	}
	var cm string
	for _, v := range pod.Volumes {
		if v.ConfigMap != nil {
			cm = v.ConfigMap.Name
		}
	}
	if !slices.ContainsFunc(r.configMaps, func(c corev1.ConfigMap) bool { return c.Name == cm }) {
		t.Errorf("%s: config volume names ConfigMap %q, which is not rendered", name, cm)
	}
	if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == "/etc/crmkpi" && m.ReadOnly }) {
		t.Errorf("%s: config not mounted read-only at /etc/crmkpi", name)
	}
	return c.Args
}

// checkConfig parses the config the ConfigMap carries with crmkpi's own
// parser, its ${VAR}s taken from the Secret, and checks the Secret came from
// the env file and holds every variable the config uses.
func checkConfig(t *testing.T, r rendered) *config.Config {
	t.Helper()
	if len(r.configMaps) != 1 || len(r.secrets) != 1 {
		t.Fatalf("want one ConfigMap and one Secret, got %d and %d", len(r.configMaps), len(r.secrets))
	}
	if !strings.HasPrefix(r.secrets[0].Name, "crmkpi-secrets-") {
		t.Errorf("Secret %q: want one generated from secret.env (crmkpi-secrets-HASH)", r.secrets[0].Name)
	}
	env := map[string]string{}
	for k, v := range r.secrets[0].Data {
		env[k] = string(v)
	}
	used := map[string]bool{}
	cfg, err := config.ParseWithEnv(strings.NewReader(r.configMaps[0].Data["crmkpi.yaml"]), "crmkpi.yaml", func(k string) (string, bool) {
		used[k] = true
		v, ok := env[k]
		return v, ok
	})
	if err != nil {
		t.Fatalf("the ConfigMap's crmkpi.yaml does not parse: %v", err)
	}
	if cfg.Warehouse.Driver() != "postgres" {
		t.Errorf("warehouse %s: want PostgreSQL in a cluster (a SQLite file in a pod is lost on restart)", cfg.Warehouse.Driver())
	}
	for k := range env {
		if !used[k] {
			t.Errorf("secret.env.example sets %s, which the config never uses", k)
		}
	}
	return cfg
}

// TestDockerfileUser checks that the image runs as the numeric user the
// manifests expect.
func TestDockerfileUser(t *testing.T) {
	f, err := os.Open("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var user string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "USER "); ok {
			user = strings.TrimSpace(u)
		}
	}
	if user != "65532:65532" {
		t.Errorf("Dockerfile USER %q, want 65532:65532 (numeric, as runAsNonRoot needs)", user)
	}
}

// TestSecretEnvIgnored checks that the real secrets file cannot be
// committed by accident.
func TestSecretEnvIgnored(t *testing.T) {
	b, err := os.ReadFile("../.gitignore")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "kubernetes/base/secret.env") {
		t.Errorf("deploy/.gitignore does not ignore kubernetes/base/secret.env")
	}
}
