package teams

import (
	"slices"
	"time"

	"github.com/zs110/dispatch/geo"
)

// Len returns the number of units; their numbers are 0 to Len()-1, in id order.
func (f *Fleet) Len() int { return len(f.units) }

// Number returns the dense number of unit id (its position in id order):
// the id the capability indices and Record use.
func (f *Fleet) Number(id string) (i int32, ok bool) {
	i, ok = f.byID[id]
	return i, ok
}

// Record returns the live state of unit number i (0 <= i < Len()). The
// record is the fleet's own: read it through its methods, before the next
// change of the fleet.
func (f *Fleet) Record(i int32) *UnitRecord { return &f.units[i] }

// Capabilities returns the names of the capabilities some unit has, sorted:
// capability number c is Capabilities()[c].
func (f *Fleet) Capabilities() []string { return slices.Clone(f.capNames) }

// Capability returns the number of capability name; ok is false when no
// unit has it.
func (f *Fleet) Capability(name string) (c int32, ok bool) {
	c, ok = f.capByName[name]
	return c, ok
}

// SpeedProfiles returns the speed profiles (geo.ETA numbers) present among
// the units with capability c: what bounds their speed. The slice is the
// fleet's own: do not modify it.
func (f *Fleet) SpeedProfiles(c int32) []int { return f.caps[c].profiles }

// Nearest appends to dst[:0] the k available units of capability c of least
// cost from q, sorted by (cost, number): professional and command units, or
// reserve-team units when reserve is set. It is the capability index's
// geo.PointIndex.Nearest, with its contract: the ids are unit numbers,
// cost(i, d) >= d*lbPerM, and units of one Class at one point get the same
// cost. It is exact and does not allocate once dst is large enough.
func (f *Fleet) Nearest(c int32, reserve bool, q geo.Point, k int, lbPerM float64, cost geo.CostFunc, dst []geo.Hit) []geo.Hit {
	ix := f.caps[c].pro
	if reserve {
		ix = f.caps[c].res
	}
	return ix.Nearest(q, k, lbPerM, cost, dst)
}

// TownCodes returns the codes of the towns in the order of geo.Towns.All:
// town number t is TownCodes()[t].
func (f *Fleet) TownCodes() []string { return slices.Clone(f.townCodes) }

// TownCode returns the code of town number t, "" for -1 (outside the city).
func (f *Fleet) TownCode(t int32) string {
	if t < 0 {
		return ""
	}
	return f.townCodes[t]
}

// Available returns how many professional and command units with
// capability c are available in town number t now (reserves are not
// counted): a unit for which it is 1 is the last of its kind there.
func (f *Fleet) Available(t, c int32) int32 { return f.avail[int(t)*len(f.caps)+int(c)] }

// DropIndices discards the capability indices; the fleet can then neither
// search nor change units (both panic). It exists for measurements: the
// heap it frees is what the indices held.
func (f *Fleet) DropIndices() {
	for _, c := range f.caps {
		c.pro, c.res = nil, nil
	}
}

// ID returns the unit's id.
func (r *UnitRecord) ID() string { return r.u.ID }

// Team returns the id of the unit's team.
func (r *UnitRecord) Team() string { return r.u.Team }

// Status returns the unit's status.
func (r *UnitRecord) Status() Status { return r.status }

// Position returns where the unit is.
func (r *UnitRecord) Position() geo.Point { return r.pos }

// Town returns the number of the unit's town (Fleet.TownCode), -1 outside the city.
func (r *UnitRecord) Town() int32 { return r.town }

// Incident returns the incident the unit works on, "" for none.
func (r *UnitRecord) Incident() string { return r.incident }

// Since returns when the unit's status last changed.
func (r *UnitRecord) Since() time.Time { return r.since }

// Reserve reports whether the unit belongs to a reserve team.
func (r *UnitRecord) Reserve() bool { return r.reserve }

// ActivationDelay returns the time the unit needs between being called and
// leaving (ActivationDelay of its team: zero but for reserves).
func (r *UnitRecord) ActivationDelay() time.Duration { return r.delay }

// ActivationDelayS returns ActivationDelay in seconds.
func (r *UnitRecord) ActivationDelayS() float64 { return r.delay.Seconds() }

// Profile returns the number of the unit's speed profile in the fleet's geo.ETA.
func (r *UnitRecord) Profile() int { return r.profile }

// Capabilities returns the numbers of the unit's capabilities, each once,
// in the order of its definition. The slice is the fleet's own: do not
// modify it.
func (r *UnitRecord) Capabilities() []int32 { return r.caps }

// Has reports whether the unit has capability number c.
func (r *UnitRecord) Has(c int32) bool { return slices.Contains(r.caps, c) }

// Class returns the unit's class: units of one class (same speed profile,
// reserve flag, activation delay and capabilities) are priced alike at the
// same point by any ranking, which lets an H3 index price a stack of them once.
func (r *UnitRecord) Class() uint32 { return r.class }

// Station returns the id of the unit's station.
func (r *UnitRecord) Station() string { return r.u.Station }

// Home returns the location of the unit's station.
func (r *UnitRecord) Home() geo.Point { return r.home }
