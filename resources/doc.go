// Package resources owns emergency materials: items, depots (the city
// reserve and the town depots), the stock ledger and the split of a
// request over several depots that minimises the time until all of it has
// arrived, with any shortfall reported.
//
// Ledger is the one place the stock rules are written: levels (on hand,
// reserved) per depot and item, active reservations, and the StockChange
// movements (OpReserve, OpConsume, OpRelease, OpRestock) that Check
// validates as a batch and Apply writes, so that stock never goes negative,
// never more is reserved than is on hand, and nothing is reserved twice.
// The engine's Inventory and the in-memory store (dispatch/memstore) both
// keep their stock in a Ledger; dispatch/pgstore enforces the same rules as
// SQL constraints, the database's own guard. The sentinel errors
// (ErrInsufficient, ErrDuplicateReservation, ErrUnknownReservation,
// ErrUnknownDepot, ErrBadQuantity, ErrUnknownOp) say which rule refused.
package resources
