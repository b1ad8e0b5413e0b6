// Package deploy holds the offline checks of vast-mcp's deployment files:
// the Kubernetes manifests in kubernetes/, the Dockerfile and server.json.
// It is a module of its own so that importers of vast-mcp never download
// the Kubernetes API types or the MCP registry it checks against.
//
//	cd deploy && go test ./...   (or make check-deploy)
package deploy
