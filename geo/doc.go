// Package geo owns space and travel time: WGS84 points and great-circle
// distance, H3 cells (it is the only package that imports
// github.com/uber/h3-go, which needs cgo), the exact H3 point index (items
// stacked by point and class, searched at the resolution that suits how
// spread they are) with its brute-force and R-tree baselines, the towns
// of the city, and the ETA model (distance x detour factor / speed by unit
// profile and hour of day). Metres and seconds everywhere.
package geo
