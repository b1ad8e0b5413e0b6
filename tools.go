//go:build tools

// Package tools pins the code generator, so `go run` and `go generate` use the
// oapi-codegen version recorded in go.mod instead of whatever is installed.
package tools

import (
	_ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
)
