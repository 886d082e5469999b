-- A sequence's count, time span and bbox cover only the pictures that reach as far as the
-- sequence (seen by everyone who may see it), so a hidden picture shapes nothing its readers
-- read. Sequences holding a picture that does not reach are computed again; the others already
-- hold these figures.

UPDATE sequences SET (nb_pictures, min_captured_at, max_captured_at,
                      min_lon, min_lat, max_lon, max_lat) =
    (SELECT count(*), min(p.captured_at), max(p.captured_at),
            min(p.lon), min(p.lat), max(p.lon), max(p.lat)
     FROM sequence_pictures sp JOIN pictures p ON p.id = sp.picture_id
     WHERE sp.sequence_id = sequences.id
       AND (p.visibility = 'anyone' OR p.visibility = sequences.visibility
            OR sequences.visibility = 'owner-only'))
WHERE status != 'deleted'
  AND EXISTS (SELECT 1 FROM sequence_pictures sp JOIN pictures p ON p.id = sp.picture_id
              WHERE sp.sequence_id = sequences.id
                AND NOT (p.visibility = 'anyone' OR p.visibility = sequences.visibility
                         OR sequences.visibility = 'owner-only'));
