package mcp_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vast-mcp/vast-mcp/mcp"
)

func TestParseDockerFlags(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]string
		wantErr string
	}{
		{in: "", want: map[string]string{}},
		{in: "-e HF_TOKEN=hf_x -p 8000:8000", want: map[string]string{"HF_TOKEN": "hf_x", "-p 8000:8000": "1"}},
		{in: "  --env A=1\t--publish 127.0.0.1:22:22/tcp ", want: map[string]string{"A": "1", "-p 127.0.0.1:22:22/tcp": "1"}},
		{in: `-e 'MSG=hello world' -e "Q=a \"b\""`, want: map[string]string{"MSG": "hello world", "Q": `a "b"`}},
		{in: `-e URL=http://x/?a=b=c`, want: map[string]string{"URL": "http://x/?a=b=c"}},
		{in: "-e EMPTY=", want: map[string]string{"EMPTY": ""}},
		{in: "-p 8080", want: map[string]string{"-p 8080": "1"}},
		{in: "-e A=1 -e A=2", want: map[string]string{"A": "2"}},
		{in: "-e NOVALUE", wantErr: `-e "NOVALUE": expected NAME=value`},
		{in: "-e 1BAD=x", wantErr: "expected NAME=value"},
		{in: "-p http", wantErr: "expected HOST:CONTAINER"},
		{in: "-v /data:/data", wantErr: `unexpected "-v"`},
		{in: "A=1", wantErr: `unexpected "A=…"`}, // named, its value not repeated
		{in: "-e", wantErr: "-e needs a value"},
		{in: `-e "A=1`, wantErr: "unclosed \" quote"},
		{in: `-e A=1\`, wantErr: "trailing backslash"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := mcp.ParseDockerFlags(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
