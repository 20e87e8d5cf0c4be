package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The kaudit binary under test, built once by the first test that needs it
// and removed when the run ends.
var (
	buildOnce sync.Once
	buildDir  string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// kauditBin skips the test unless KAUDIT_E2E=1, and returns the kaudit
// binary built from ../cmd/kaudit.
func kauditBin(t *testing.T) string {
	t.Helper()
	if os.Getenv("KAUDIT_E2E") != "1" {
		t.Skip("set KAUDIT_E2E=1 to run end-to-end tests")
	}
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "kaudit-e2e-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "kaudit")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/kaudit").CombinedOutput()
		if err != nil {
			buildErr = errors.New("go build ../cmd/kaudit: " + err.Error() + "\n" + string(out))
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// kaudit runs the binary with args to its end and returns its exit code
// and output.
func kaudit(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(kauditBin(t), args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("kaudit %v: %v", args, err)
	}
	return code, out.String(), errOut.String()
}

// repoPath is a path in the repository, made absolute (tests hand it to
// processes that run elsewhere).
func repoPath(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
