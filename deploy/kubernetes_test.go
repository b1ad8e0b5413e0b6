package deploy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// The API's default per-request timeout (--timeout) when the manifest
// does not set VAST_MCP_TIMEOUT.
const defaultAPITimeout = 30 * time.Second

// manifests is every object in kubernetes/*.yaml but the kustomization,
// decoded strictly into its Kubernetes API type: a misspelt or misplaced
// field is an error, as kubectl --validate=strict would report.
type manifests struct {
	deployment *appsv1.Deployment
	service    *corev1.Service
	pdb        *policyv1.PodDisruptionBudget
}

func load(t *testing.T) manifests {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	require.NoError(t, err)
	var m manifests
	for _, file := range files {
		if filepath.Base(file) == "kustomization.yaml" {
			continue
		}
		raw, err := os.ReadFile(file)
		require.NoError(t, err)
		for i, doc := range bytes.Split(raw, []byte("\n---")) {
			obj, err := decodeStrict(doc)
			require.NoError(t, err, "%s, document %d", file, i+1)
			switch obj := obj.(type) {
			case *appsv1.Deployment:
				m.deployment = obj
			case *corev1.Service:
				m.service = obj
			case *policyv1.PodDisruptionBudget:
				m.pdb = obj
			}
		}
	}
	require.NotNil(t, m.deployment, "a Deployment")
	require.NotNil(t, m.service, "a Service")
	require.NotNil(t, m.pdb, "a PodDisruptionBudget")
	return m
}

func decodeStrict(doc []byte) (any, error) {
	asJSON, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, err
	}
	var kind unstructured.Unstructured
	if err := kind.UnmarshalJSON(asJSON); err != nil {
		return nil, err
	}
	var obj any
	switch gvk := kind.GroupVersionKind(); gvk.GroupVersion().String() + "/" + gvk.Kind {
	case "apps/v1/Deployment":
		obj = &appsv1.Deployment{}
	case "v1/Service":
		obj = &corev1.Service{}
	case "policy/v1/PodDisruptionBudget":
		obj = &policyv1.PodDisruptionBudget{}
	default:
		return nil, fmt.Errorf("unexpected kind %s: add it to the checks", gvk)
	}
	dec := json.NewDecoder(bytes.NewReader(asJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(obj); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after the object")
	}
	return obj, nil
}

func TestStrictDecodingRefusesAnUnknownField(t *testing.T) {
	_, err := decodeStrict([]byte("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: x}\nspec:\n  minAvailabe: 2\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "minAvailabe")
}

func container(t *testing.T, d *appsv1.Deployment) corev1.Container {
	t.Helper()
	require.Len(t, d.Spec.Template.Spec.Containers, 1)
	return d.Spec.Template.Spec.Containers[0]
}

func TestDeploymentRunsThreeHardenedReplicas(t *testing.T) {
	m := load(t)
	d := m.deployment
	c := container(t, d)
	pod := d.Spec.Template.Spec

	require.NotNil(t, d.Spec.Replicas)
	assert.EqualValues(t, 3, *d.Spec.Replicas)
	selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	require.NoError(t, err)
	assert.True(t, selector.Matches(labels.Set(d.Spec.Template.Labels)), "the Deployment selects its own pods")

	t.Run("non-root, read-only root filesystem, no privilege", func(t *testing.T) {
		require.NotNil(t, pod.SecurityContext)
		assert.True(t, ptrTrue(pod.SecurityContext.RunAsNonRoot))
		require.NotNil(t, pod.SecurityContext.RunAsUser)
		assert.NotZero(t, *pod.SecurityContext.RunAsUser)
		require.NotNil(t, c.SecurityContext)
		assert.True(t, ptrTrue(c.SecurityContext.ReadOnlyRootFilesystem))
		require.NotNil(t, c.SecurityContext.AllowPrivilegeEscalation)
		assert.False(t, *c.SecurityContext.AllowPrivilegeEscalation)
		require.NotNil(t, c.SecurityContext.Capabilities)
		assert.Contains(t, c.SecurityContext.Capabilities.Drop, corev1.Capability("ALL"))
	})

	t.Run("requests and limits", func(t *testing.T) {
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, lim := c.Resources.Requests[r], c.Resources.Limits[r]
			assert.False(t, req.IsZero(), "request for %s", r)
			assert.False(t, lim.IsZero(), "limit for %s", r)
			assert.LessOrEqual(t, req.Cmp(lim), 0, "%s request within its limit", r)
		}
	})

	t.Run("probes on /healthz and /readyz at the served port", func(t *testing.T) {
		for probe, path := range map[*corev1.Probe]string{c.LivenessProbe: "/healthz", c.ReadinessProbe: "/readyz"} {
			require.NotNil(t, probe)
			require.NotNil(t, probe.HTTPGet)
			assert.Equal(t, path, probe.HTTPGet.Path)
			assert.Equal(t, servedPort(t), containerPort(t, c, probe.HTTPGet.Port.String(), probe.HTTPGet.Port.IntValue()))
		}
	})

	t.Run("secrets come from a Secret, never a literal", func(t *testing.T) {
		for _, name := range []string{"VAST_API_KEY", "VAST_MCP_HTTP_TOKEN", "VAST_MCP_STATE_KEY", "VAST_MCP_STATE_KEY_PREVIOUS", "VAST_MCP_REDIS_URL"} {
			i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == name })
			require.GreaterOrEqual(t, i, 0, "%s is set", name)
			env := c.Env[i]
			assert.Empty(t, env.Value, "%s must not be written in the manifest", name)
			require.NotNil(t, env.ValueFrom, name)
			require.NotNil(t, env.ValueFrom.SecretKeyRef, "%s comes from a Secret", name)
			assert.NotEmpty(t, env.ValueFrom.SecretKeyRef.Name)
			assert.NotEmpty(t, env.ValueFrom.SecretKeyRef.Key)
		}
	})

	t.Run("grace period outlasts an API call and the preStop pause", func(t *testing.T) {
		timeout := defaultAPITimeout
		for _, e := range c.Env {
			if e.Name == "VAST_MCP_TIMEOUT" {
				var err error
				timeout, err = time.ParseDuration(e.Value)
				require.NoError(t, err)
			}
		}
		var pause time.Duration
		if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
			pause = time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
		}
		require.NotNil(t, pod.TerminationGracePeriodSeconds)
		grace := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
		assert.Greater(t, grace, timeout+pause, "SIGTERM must leave a create in flight time to finish")
	})

	t.Run("the image is this version's", func(t *testing.T) {
		assert.Equal(t, imageRepository+":"+version(t), c.Image)
	})
}

func TestServiceReachesThePods(t *testing.T) {
	m := load(t)
	c := container(t, m.deployment)
	require.NotEmpty(t, m.service.Spec.Selector)
	assert.True(t, labels.SelectorFromSet(m.service.Spec.Selector).Matches(labels.Set(m.deployment.Spec.Template.Labels)))
	require.Len(t, m.service.Spec.Ports, 1)
	target := m.service.Spec.Ports[0].TargetPort
	assert.Equal(t, servedPort(t), containerPort(t, c, target.String(), target.IntValue()))
}

func TestDisruptionBudgetCoversThePodsAndLetsADrainProceed(t *testing.T) {
	m := load(t)
	selector, err := metav1.LabelSelectorAsSelector(m.pdb.Spec.Selector)
	require.NoError(t, err)
	assert.True(t, selector.Matches(labels.Set(m.deployment.Spec.Template.Labels)), "the budget selects the Deployment's pods")
	require.NotNil(t, m.pdb.Spec.MinAvailable)
	minAvailable := m.pdb.Spec.MinAvailable.IntValue()
	assert.GreaterOrEqual(t, minAvailable, 1)
	assert.Less(t, minAvailable, int(*m.deployment.Spec.Replicas), "one pod at a time may still be evicted")
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	raw, err := os.ReadFile("kubernetes/kustomization.yaml")
	require.NoError(t, err)
	var k struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Resources  []string `json:"resources"`
	}
	require.NoError(t, yaml.UnmarshalStrict(raw, &k))
	assert.Equal(t, "Kustomization", k.Kind)
	files, err := filepath.Glob("kubernetes/*.yaml")
	require.NoError(t, err)
	var want []string
	for _, f := range files {
		if base := filepath.Base(f); base != "kustomization.yaml" {
			want = append(want, base)
		}
	}
	assert.ElementsMatch(t, want, k.Resources)
}

// containerPort resolves a probe's or a Service's port, by name or number,
// to the container's port number.
func containerPort(t *testing.T, c corev1.Container, name string, number int) int {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == name || (number != 0 && int(p.ContainerPort) == number) {
			return int(p.ContainerPort)
		}
	}
	t.Fatalf("port %q is not one of the container's", name)
	return 0
}

func ptrTrue(b *bool) bool { return b != nil && *b }

// version is the one version, gen/VERSION.
func version(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("../gen/VERSION")
	require.NoError(t, err)
	return strings.TrimSpace(string(raw))
}
