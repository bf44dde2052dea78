package drillio

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a reader or writer goroutine
// outlives its Source or Sink.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
