package memstore_test

import (
	"testing"

	"github.com/zs110/dispatch/dispatch"
	"github.com/zs110/dispatch/dispatch/memstore"
	"github.com/zs110/dispatch/dispatch/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) dispatch.Store { return memstore.New(memstore.Config{}) })
}
