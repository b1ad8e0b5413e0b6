package mcp_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/internal/fakeapi"
	"github.com/vast-mcp/vast-mcp/mcp"
)

func TestBadArgumentsAreRefusedBeforeAnyRequest(t *testing.T) {
	tests := []struct {
		name string
		tool string
		args string
		want []string // substrings of the refusal: the argument and what is wrong
	}{
		// wrong type
		{"string for an integer", "create_instance", `{"offer_id": "4242", "image": "img"}`, []string{"offer_id: must be integer, got string"}},
		{"fraction for an integer", "create_endpoint", `{"max_workers": 2.5}`, []string{"max_workers: must be integer, got number"}},
		{"number for a string", "create_endpoint", `{"endpoint_name": 12}`, []string{"endpoint_name: must be string, got number"}},
		{"env neither object nor string", "create_instance", `{"offer_id": 1, "image": "img", "env": 5}`, []string{"env: must be object or string, got number"}},
		{"env value not a string", "create_instance", `{"offer_id": 1, "image": "img", "env": {"A": 1}}`, []string{"env"}},
		{"args not an array", "create_instance", `{"offer_id": 1, "image": "img", "args": "python"}`, []string{"args: must be array, got string"}},
		// out of range
		{"price above 128", "create_instance", `{"offer_id": 1, "image": "img", "price": 500}`, []string{"price: must be at most 128, got 500"}},
		{"price below 0.001", "create_instance", `{"offer_id": 1, "image": "img", "price": 0.0001}`, []string{"price: must be at least 0.001"}},
		{"disk below 8 GB", "create_instance", `{"offer_id": 1, "image": "img", "disk": 4}`, []string{"disk: must be at least 8, got 4"}},
		{"offer id zero", "create_instance", `{"offer_id": 0, "image": "img"}`, []string{"offer_id: must be at least 1, got 0"}},
		{"negative max_workers", "create_endpoint", `{"max_workers": -1}`, []string{"max_workers: must be at least 0, got -1"}},
		{"target_util above 1", "create_endpoint", `{"target_util": 1.5}`, []string{"target_util: must be at most 1, got 1.5"}},
		{"gpu_ram zero", "create_workergroup", `{"endpoint_id": 1, "template_id": 2, "gpu_ram": 0}`, []string{"gpu_ram: must be at least 1, got 0"}},
		{"image over 1024 characters", "create_instance", `{"offer_id": 1, "image": "` + strings.Repeat("i", 1025) + `"}`, []string{"image: must be at most 1024 characters, got 1025"}},
		{"label over 256 characters", "create_instance", `{"offer_id": 1, "image": "img", "label": "` + strings.Repeat("l", 257) + `"}`, []string{"label: must be at most 256 characters"}},
		{"onstart over 16 KiB", "create_instance", `{"offer_id": 1, "image": "img", "onstart": "` + strings.Repeat("x", 16385) + `"}`, []string{"onstart: must be at most 16384 characters"}},
		{"empty image", "create_instance", `{"offer_id": 1, "image": ""}`, []string{"image: must not be empty"}},
		{"nested out of range", "create_instance", `{"offer_id": 1, "image": "img", "volume_info": {"size": 0}}`, []string{"volume_info.size: must be at least 1, got 0"}},
		// numbers no float64 holds: they would reach the API as 0 or not decode
		{"price too small to tell from 0", "create_instance", `{"offer_id": 1, "image": "img", "price": 1e-1000001}`, []string{"price: out of range"}},
		{"disk negative and too small", "create_instance", `{"offer_id": 1, "image": "img", "disk": -1e-1000001}`, []string{"disk: out of range"}},
		// zero, but with an exponent exact arithmetic cannot read: a bound must not pass by default
		{"price zero with a huge exponent", "create_instance", `{"offer_id": 1, "image": "img", "price": 0e99999999999999999999}`, []string{"price: must be written with an exponent between -1000 and 1000"}},
		{"disk zero with a huge negative exponent", "create_instance", `{"offer_id": 1, "image": "img", "disk": -0.0e-99999999999999999999}`, []string{"disk: must be written with an exponent between -1000 and 1000"}},
		{"an integer with a huge exponent", "create_instance", `{"offer_id": 1, "image": "img", "volume_info": {"size": 0e9223372036854775808}}`, []string{"volume_info.size: must be written with an exponent"}},
		{"a number of hundreds of digits", "create_endpoint", `{"target_util": 0.` + strings.Repeat("9", 400) + `}`, []string{"target_util: must be written in at most 40 characters"}},
		// not in an enum
		{"unknown runtype", "create_instance", `{"offer_id": 1, "image": "img", "runtype": "docker"}`, []string{`runtype: must be one of "ssh"`, `got "docker"`}},
		{"unknown target_state", "create_instance", `{"offer_id": 1, "image": "img", "target_state": "paused"}`, []string{"target_state: must be one of"}},
		// unknown field
		{"unknown argument", "create_endpoint", `{"endpoint_name": "e", "max_worker": 3}`, []string{"max_worker: unknown argument", "create_endpoint takes cold_mult, cold_workers, endpoint_name, inactivity_timeout, max_queue_time, max_workers,"}},
		{"api_key is never an argument", "create_endpoint", `{"api_key": "k"}`, []string{"api_key: unknown argument"}},
		{"workergroup field out of range", "create_workergroup", `{"endpoint_id": 1, "template_id": 2, "target_util": 1.5}`, []string{"target_util"}},
		{"unknown nested field", "create_instance", `{"offer_id": 1, "image": "img", "volume_info": {"sise": 10}}`, []string{"volume_info.sise: unknown field"}},
		// missing required
		{"offer_id missing", "create_instance", `{"image": "img"}`, []string{"offer_id: required"}},
		// prose rules
		{"instance needs image or template", "create_instance", `{"offer_id": 1, "disk": 10}`, []string{"give one of image or template_hash_id"}},
		{"workergroup needs an endpoint", "create_workergroup", `{"template_hash": "h"}`, []string{"give one of endpoint_name or endpoint_id"}},
		{"workergroup needs something to run", "create_workergroup", `{"endpoint_name": "e"}`, []string{"give one of template_hash or template_id or search_params"}},
		// what the schema cannot see
		{"integer written as a fraction", "create_instance", `{"offer_id": 4242.0, "image": "img"}`, []string{"offer_id: must be a whole number written without a decimal point, got 4242.0"}},
		{"integer written with an exponent, named as the caller wrote it", "create_endpoint", `{"cold_workers": 5e0}`, []string{"create_endpoint: cold_workers: must be a whole number written without a decimal point, got 5e0"}},
		{"nested integer written as a fraction, named as the caller wrote it", "create_instance", `{"offer_id": 1, "image": "img", "volume_info": {"size": 8.0}}`, []string{"create_instance: volume_info.size: must be a whole number written without a decimal point, got 8.0"}},
		{"env flags the CLI would drop", "create_instance", `{"offer_id": 1, "image": "img", "env": "-e A=1 --rm"}`, []string{`env: unexpected "--rm"`}},
		{"env flag without a value", "create_instance", `{"offer_id": 1, "image": "img", "env": "-e"}`, []string{"env: -e needs a value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api := connectFake(t, mcp.Options{}, fakeapi.Fixture(t, "instance/200"))
			res := call(t, c, tt.tool, tt.args)
			got := text(t, res)
			require.True(t, res.IsError, "accepted: %s", got)
			assert.Contains(t, got, "Invalid arguments for "+tt.tool)
			assert.Contains(t, got, "Nothing was sent")
			for _, w := range tt.want {
				assert.Contains(t, got, w)
			}
			assert.Empty(t, api.Requests(), "a refused call sends nothing")
		})
	}
}

func TestValidArgumentsAtTheLimitsAreAccepted(t *testing.T) {
	tests := []struct{ tool, args string }{
		{"create_instance", `{"offer_id": 1, "image": "img", "price": 128, "disk": 8}`},
		{"create_instance", `{"offer_id": 1, "image": "img", "price": 0.001}`},
		{"create_instance", `{"offer_id": 1, "image": "` + strings.Repeat("i", 1024) + `", "onstart": "` + strings.Repeat("x", 16384) + `"}`},
		{"create_endpoint", `{}`},
		{"create_endpoint", `{"target_util": 0, "max_workers": 0}`},
		{"create_workergroup", `{"endpoint_id": 1, "search_params": "gpu_name=RTX_4090"}`},
	}
	for _, tt := range tests {
		t.Run(tt.tool, func(t *testing.T) {
			fixture := map[string]string{"create_instance": "instance/200", "create_endpoint": "endpoint/200", "create_workergroup": "workergroup/200_id"}[tt.tool]
			c, api := connectFake(t, mcp.Options{}, fakeapi.Fixture(t, fixture))
			res := call(t, c, tt.tool, tt.args)
			assert.False(t, res.IsError, text(t, res))
			assert.Len(t, api.Requests(), 1)
		})
	}
}
