package mcp

//go:generate go run ../internal/specgen -spec ../openapi.yaml -overlay ../overlay.yaml -codegen-config ../oapi-codegen.yaml -out tools.gen.go
//go:generate go run ../internal/docgen -readme ../README.md
