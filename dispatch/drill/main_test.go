package drill

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine (the source
// prefetcher) outlives its drill.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
