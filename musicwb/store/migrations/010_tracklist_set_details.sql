-- What a mix title tells besides the DJ: the date as written ("2002-07-04", "1988-06", "200X"),
-- the venue (after " @ ") and the show ("A State Of Trance 054"). Filled for MixesDB and DJ Mix
-- Dataset imports; NULL for the other formats and for sets imported before. The show column is
-- show_name because SHOW is a DuckDB keyword.

ALTER TABLE tracklist_sets ADD COLUMN set_date VARCHAR;
ALTER TABLE tracklist_sets ADD COLUMN venue VARCHAR;
ALTER TABLE tracklist_sets ADD COLUMN show_name VARCHAR;
