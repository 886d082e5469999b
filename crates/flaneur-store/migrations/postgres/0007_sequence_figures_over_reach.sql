-- A sequence's count, time span and bbox cover only the pictures that reach as far as the
-- sequence (seen by everyone who may see it), so a hidden picture shapes nothing its readers
-- read. Sequences holding a picture that does not reach are computed again; the others already
-- hold these figures.

UPDATE sequences s SET
    nb_pictures = f.nb_pictures,
    min_captured_at = f.min_captured_at, max_captured_at = f.max_captured_at,
    min_lon = f.min_lon, min_lat = f.min_lat, max_lon = f.max_lon, max_lat = f.max_lat
FROM (SELECT q.id,
             count(p.id) FILTER (WHERE r.reaches) AS nb_pictures,
             min(p.captured_at) FILTER (WHERE r.reaches) AS min_captured_at,
             max(p.captured_at) FILTER (WHERE r.reaches) AS max_captured_at,
             min(p.lon) FILTER (WHERE r.reaches) AS min_lon,
             min(p.lat) FILTER (WHERE r.reaches) AS min_lat,
             max(p.lon) FILTER (WHERE r.reaches) AS max_lon,
             max(p.lat) FILTER (WHERE r.reaches) AS max_lat
      FROM sequences q
      JOIN sequence_pictures sp ON sp.sequence_id = q.id
      JOIN pictures p ON p.id = sp.picture_id
      CROSS JOIN LATERAL (SELECT p.visibility = 'anyone' OR p.visibility = q.visibility
                                 OR q.visibility = 'owner-only' AS reaches) r
      WHERE q.status != 'deleted'
      GROUP BY q.id
      HAVING bool_or(NOT r.reaches)) f
WHERE s.id = f.id;
