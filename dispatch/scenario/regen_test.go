package scenario

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// TestEmbeddedScenarioUpToDate: the embedded default is exactly what the
// generator makes (run `go generate ./dispatch/scenario/` after changing it). With
// UPDATE_SCENARIO=1 it rewrites the file.
func TestEmbeddedScenarioUpToDate(t *testing.T) {
	sc, err := Generate(GenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(sc, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	if os.Getenv("UPDATE_SCENARIO") == "1" {
		if err := os.WriteFile("data/zhongshan.json", b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(b, zhongshanJSON) {
		t.Fatal("data/zhongshan.json is stale: run go generate ./dispatch/scenario/")
	}
}
