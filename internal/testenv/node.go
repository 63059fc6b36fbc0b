package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// NodeModulesEnv names the node_modules folder scripts/test.sh fills with
// the JavaScript clients the tests drive (tus-js-client).
const NodeModulesEnv = "FIELDSYNC_NODE_MODULES"

// Node returns the node binary and a node_modules folder that holds
// module, or ends the test: a failure under CI=true, a skip elsewhere.
func Node(t testing.TB, module string) (node, modules string) {
	t.Helper()
	var missing string
	node, err := exec.LookPath("node")
	if err != nil {
		missing = "node is not on $PATH"
	}
	modules = os.Getenv(NodeModulesEnv)
	if modules == "" {
		if root, ok := moduleRoot(); ok {
			modules = filepath.Join(root, ".cache", "node", "node_modules")
		}
	}
	if _, err := os.Stat(filepath.Join(modules, module, "package.json")); err != nil && missing == "" {
		missing = fmt.Sprintf("%s is not installed in %s", module, modules)
	}
	if missing == "" {
		return node, modules
	}
	msg := "testenv: " + missing + "; run the tests with scripts/test.sh, which installs it"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return "", ""
}
