package mcp

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/vast-mcp/vast-mcp/gen"
)

// gen redacts credentials in raw text by the shape of their field's name;
// every field the spec marks x-vast-sensitive must have that shape.
func TestSensitiveFieldsAreRedactedByName(t *testing.T) {
	const value = "s3cr3t-value-0123456789"
	for _, spec := range toolSpecs {
		for _, field := range spec.Sensitive {
			for _, raw := range []string{
				`{"` + field + `": "` + value + `"}`,
				`{"` + field + `":"` + value,
				`{'` + field + `': '` + value + `'}`,
				field + "=" + value,
				`{\"` + field + `\": \"` + value + `\"}`,
			} {
				assert.NotContains(t, gen.Sanitize(raw, 300), value[:8], "%s in %s", field, raw)
			}
		}
	}
}
