package gen

// Names of the client before it was generated from Vast's published
// document (CHANGELOG.md, 0.2.0). Enum constants now carry their type's
// name, so that values other operations share cannot collide.
const (
	// Deprecated: use CreateInstanceRequestRuntypeArgs.
	Args = CreateInstanceRequestRuntypeArgs
	// Deprecated: use CreateInstanceRequestRuntypeJupyter.
	Jupyter = CreateInstanceRequestRuntypeJupyter
	// Deprecated: use CreateInstanceRequestRuntypeJupyterDirect.
	JupyterDirect = CreateInstanceRequestRuntypeJupyterDirect
	// Deprecated: use CreateInstanceRequestRuntypeJupyterProxy.
	JupyterProxy = CreateInstanceRequestRuntypeJupyterProxy
	// Deprecated: use CreateInstanceRequestRuntypeSsh.
	Ssh = CreateInstanceRequestRuntypeSsh
	// Deprecated: use CreateInstanceRequestRuntypeSshDirect.
	SshDirect = CreateInstanceRequestRuntypeSshDirect
	// Deprecated: use CreateInstanceRequestRuntypeSshProxy.
	SshProxy = CreateInstanceRequestRuntypeSshProxy
	// Deprecated: use CreateInstanceRequestTargetStateRunning.
	Running = CreateInstanceRequestTargetStateRunning
	// Deprecated: use CreateInstanceRequestTargetStateStopped.
	Stopped = CreateInstanceRequestTargetStateStopped
)
