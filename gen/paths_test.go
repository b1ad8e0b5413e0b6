package gen_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/vast-mcp/vast-mcp/gen"
)

// wantPaths pins where each operation the project uses is sent: the path
// vast-cli sends, with the trailing slash the live service needs (a
// slashless create is answered 301, which net/http follows as a GET), even
// though Vast's published document drops it. {id} is sent as 7.
var wantPaths = map[string]string{
	"createEndpoint":     "POST /api/v0/endptjobs/",
	"showEndpoints":      "GET /api/v0/endptjobs/",
	"deleteEndpoint":     "DELETE /api/v0/endptjobs/7/",
	"createWorkergroup":  "POST /api/v0/workergroups/",
	"showWorkergroup":    "GET /api/v0/workergroups/",
	"deleteWorkergroup":  "DELETE /api/v0/workergroups/7/",
	"createInstance":     "PUT /api/v0/asks/7/",
	"searchOffers":       "POST /api/v0/bundles/",
	"searchTemplates":    "GET /api/v0/template/",
	"showInstances":      "GET /api/v1/instances/",
	"showInstance":       "GET /api/v0/instances/7/",
	"manageInstance":     "PUT /api/v0/instances/7/",
	"destroyInstance":    "DELETE /api/v0/instances/7/",
	"getEndpointWorkers": "POST /get_endpoint_workers/",
	"showUser":           "GET /api/v0/users/current", // vast-cli sends this one without a slash
}

func TestEveryUsedOperationHasAPinnedPath(t *testing.T) {
	data, err := os.ReadFile("../oapi-codegen.yaml")
	require.NoError(t, err)
	var cfg struct {
		OutputOptions struct {
			IncludeOperationIDs []string `yaml:"include-operation-ids"`
		} `yaml:"output-options"`
	}
	require.NoError(t, yaml.Unmarshal(data, &cfg))
	var pinned []string
	for id := range wantPaths {
		pinned = append(pinned, id)
	}
	slices.Sort(pinned)
	assert.Equal(t, pinned, slices.Sorted(slices.Values(cfg.OutputOptions.IncludeOperationIDs)),
		"every operation oapi-codegen.yaml includes needs its path pinned here, and no other")
}

// recorder answers nothing; it only notes where a request would go.
type recorder struct{ got []string }

var errRecorded = errors.New("recorded")

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	r.got = append(r.got, req.Method+" "+req.URL.Path)
	return nil, errRecorded
}

func TestRawGeneratedClientsSendTheSlashedPaths(t *testing.T) {
	for id, want := range wantPaths {
		method := strings.ToUpper(id[:1]) + id[1:]
		t.Run(id, func(t *testing.T) {
			rec := &recorder{}
			raw, err := gen.NewClient("https://console.vast.ai", gen.WithHTTPClient(rec))
			require.NoError(t, err)
			withResponses, err := gen.NewClientWithResponses("https://console.vast.ai", gen.WithHTTPClient(rec))
			require.NoError(t, err)

			callWithZeroArguments(t, reflect.ValueOf(raw).MethodByName(method))
			callWithZeroArguments(t, reflect.ValueOf(withResponses).MethodByName(method+"WithResponse"))
			assert.Equal(t, []string{want, want}, rec.got)
		})
	}
}

// callWithZeroArguments calls a generated method with a context, 7 for
// every integer (the path ids) and zero values for the rest.
func callWithZeroArguments(t *testing.T, m reflect.Value) {
	t.Helper()
	require.True(t, m.IsValid(), "the generated client lacks this method")
	typ := m.Type()
	args := []reflect.Value{reflect.ValueOf(context.Background())}
	for i := 1; i < typ.NumIn(); i++ {
		in := typ.In(i)
		if typ.IsVariadic() && i == typ.NumIn()-1 {
			break
		}
		if in.Kind() == reflect.Int {
			args = append(args, reflect.ValueOf(7))
			continue
		}
		args = append(args, reflect.Zero(in))
	}
	out := m.Call(args)
	err, _ := out[len(out)-1].Interface().(error)
	require.ErrorIs(t, err, errRecorded)
}

// A raw generated client given NoRedirects sees the 301 itself instead of
// re-sending a DELETE as a GET.
func TestNoRedirectsKeepsTheRawClientFromFollowing(t *testing.T) {
	var methods []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		methods = append(methods, r.Method+" "+r.URL.Path)
		http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
	}))
	defer api.Close()
	raw, err := gen.NewClient(api.URL, gen.WithHTTPClient(gen.NoRedirects(nil)))
	require.NoError(t, err)
	resp, err := raw.DestroyInstance(context.Background(), 7)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMovedPermanently, resp.StatusCode)
	assert.Equal(t, []string{"DELETE /api/v0/instances/7/"}, methods, "exactly one request, never a GET")
}
