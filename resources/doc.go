// Package resources owns emergency materials: items, depots (the city
// reserve and the town depots), the inventory with its reservations
// (reserve, consume, release; stock never negative, nothing reserved twice)
// and the split of a request over several depots that minimises the time
// until all of it has arrived, with any shortfall reported.
package resources
