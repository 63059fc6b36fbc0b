package chaos_test

import (
	"errors"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/fieldsync/fieldsync/internal/chaos"
	"github.com/fieldsync/fieldsync/internal/testenv"
)

// The small fault run: ten devices of three technicians, a thousand
// mutations and fifty photos through a proxy that cuts a fifth of the
// connections, the server (photos in MinIO) killed twice; nothing may be
// lost, doubled or left different between a device and the server.
func TestFaultRun(t *testing.T) {
	if testing.Short() {
		t.Skip("the fault run takes a minute or more")
	}
	minio := testenv.MinIO(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "fieldsync")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/fieldsync/fieldsync/cmd/fieldsync").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	started := time.Now()
	res, err := chaos.Run(t.Context(), chaos.Config{
		Binary: bin, Data: filepath.Join(dir, "run"),
		Devices: 10, Mutations: 1000, Photos: 50, Cut: 0.2, Kills: 2, Seed: 1,
		S3:       &chaos.S3{Endpoint: minio.Endpoint, Bucket: "chaos", AccessKey: minio.AccessKey, SecretKey: minio.SecretKey},
		Progress: t.Output(),
	})
	t.Logf("%s(in %s)", res, time.Since(started).Round(time.Second))
	if errors.Is(err, chaos.ErrViolations) {
		t.Fatalf("%d violations (server log: %s)", len(res.Violations), filepath.Join(dir, "run", "server.log"))
	}
	if err != nil {
		t.Fatal(err)
	}
	if res.Kills != 2 || res.Cuts == 0 || res.Photos != 50 || res.Mutations+res.Refused != 1000 {
		t.Errorf("the run did not do what it was sized for: %+v", res)
	}
}
