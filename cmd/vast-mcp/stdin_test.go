package main

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLineLimiter(t *testing.T) {
	const max = 16
	tests := []struct{ name, in, want string }{
		{"short lines pass", "a\nbb\n", "a\nbb\n"},
		{"a line at the limit passes", strings.Repeat("x", max-1) + "\n", strings.Repeat("x", max-1) + "\n"},
		{"a long line is replaced", "a\n" + strings.Repeat("x", 100) + "\nb\n", "a\n" + string(oversized) + "b\n"},
		{"a long last line without newline", strings.Repeat("x", 100), string(oversized)},
		{"a last line without newline", "a\nb", "a\nb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := io.ReadAll(limitLines(strings.NewReader(tt.in), max))
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}
}
