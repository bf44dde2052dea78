// Package geo owns space and travel time: WGS84 points and great-circle
// distance, H3 cells (it is the only package that imports
// github.com/uber/h3-go, which needs cgo), the exact H3 point index (items
// stacked by point and class, searched at the resolution that suits how
// spread they are) with its brute-force and R-tree baselines, the towns
// of the city, the ETA model (distance x detour factor / speed by unit
// profile and hour of day), and the travel-time rule built on it (Travel:
// an agency's Matrix where it has entries, else the model times a
// correction learned from the units' trips per pair of H3 cells and hour
// band, shrunk and bounded, with the Floor that keeps the ranker's search
// exact). Metres and seconds everywhere.
package geo
