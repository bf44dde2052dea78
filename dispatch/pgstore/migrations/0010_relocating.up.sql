-- Move-up: a unit may be relocating to another station (teams.StatusRelocating,
-- not active: no incident).
ALTER TABLE units DROP CONSTRAINT IF EXISTS units_status_check;
ALTER TABLE units ADD CONSTRAINT units_status_check
    CHECK (status IN ('available', 'dispatched', 'en_route', 'on_scene', 'returning', 'out_of_service', 'relocating'));
