#!/usr/bin/env bash
# Remakes the crafted files under position_time/ that tests/position_time.rs reads: positions
# in every encoding seen in the wild, and clocks (offsets, UTC day change, broken clocks,
# sub-seconds). Needs libjpeg-turbo-progs (`cjpeg`), exiftool and python3 (for the pixels and
# for the encodings exiftool will not write: signed rationals, 0/0, one-rational degrees). The
# output is small (about 1 kB per file) and committed, so the tests do not need these tools.
set -euo pipefail
cd "$(dirname "$0")"
out=position_time
rm -rf "$out"
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A 64x32 picture with no tags at all.
python3 -c 'import sys; sys.stdout.buffer.write(b"P6 64 32 255\n" + bytes(
    (x * 4, y * 8, 128) [c] for y in range(32) for x in range(64) for c in range(3)))' \
  > "$work/plain.ppm"
cjpeg -quality 60 "$work/plain.ppm" > "$work/plain.jpg"

# make NAME TAG=VALUE...: a copy of the plain picture with just these tags.
make() {
  local name=$1
  shift
  cp "$work/plain.jpg" "$out/$name.jpg"
  exiftool -q -overwrite_original -all= "$@" "$out/$name.jpg"
}

# gps NAME TAG TYPE NUM/DEN...: rewrites one GPS IFD entry in place (TYPE 5 = RATIONAL,
# 10 = SRATIONAL), with as many rationals as given, no more than the entry had.
gps() {
  python3 - "$out/$1.jpg" "${@:2}" <<'PY'
import struct, sys
path, tag, kind, *values = sys.argv[1:]
tag, kind = int(tag, 0), int(kind)
data = bytearray(open(path, 'rb').read())
tiff = data.index(b'Exif\0\0') + 6
order = '<' if data[tiff:tiff + 2] == b'II' else '>'
u16 = lambda at: struct.unpack_from(order + 'H', data, tiff + at)[0]
u32 = lambda at: struct.unpack_from(order + 'I', data, tiff + at)[0]
def entries(ifd):
    return [ifd + 2 + 12 * i for i in range(u16(ifd))]
gps_ifd = next(u32(e + 8) for e in entries(u32(4)) if u16(e) == 0x8825)
entry = next(e for e in entries(gps_ifd) if u16(e) == tag)
assert len(values) <= u32(entry + 4), 'more rationals than the entry holds'
struct.pack_into(order + 'HI', data, tiff + entry + 2, kind, len(values))
at = u32(entry + 8) if len(values) * 8 > 4 else entry + 8
for i, value in enumerate(values):
    num, den = (int(x) for x in value.split('/'))
    struct.pack_into(order + ('iI' if kind == 10 else 'II'), data, tiff + at + 8 * i, num, den)
open(path, 'wb').write(bytes(data))
PY
}

paris=(-GPSLatitude=48.8566 -GPSLatitudeRef=N -GPSLongitude=2.3522 -GPSLongitudeRef=E)
when=(-DateTimeOriginal="2024:04:04 11:30:06")

## Positions.
make pos-dms "${paris[@]}" "${when[@]}"
make pos-south-west -GPSLatitude=34.6037 -GPSLatitudeRef=S -GPSLongitude=58.3816 \
  -GPSLongitudeRef=W "${when[@]}"
# Signed rationals, negative, with S/W, with N/E and with no reference at all.
make pos-signed-sw -GPSLatitude=34.6037 -GPSLatitudeRef=S -GPSLongitude=58.3816 \
  -GPSLongitudeRef=W "${when[@]}"
gps pos-signed-sw 2 10 -34/1 36/1 1332/100
gps pos-signed-sw 4 10 -58/1 22/1 5376/100
make pos-signed-ne -GPSLatitude=34.6037 -GPSLatitudeRef=N -GPSLongitude=58.3816 \
  -GPSLongitudeRef=E "${when[@]}"
gps pos-signed-ne 2 10 -34/1 36/1 1332/100
gps pos-signed-ne 4 10 -58/1 22/1 5376/100
make pos-signed-no-ref -GPSLatitude=34.6037 -GPSLongitude=58.3816 "${when[@]}"
gps pos-signed-no-ref 2 10 -34/1 36/1 1332/100
gps pos-signed-no-ref 4 10 -58/1 22/1 5376/100
make pos-no-ref -GPSLatitude=48.8566 -GPSLongitude=2.3522 "${when[@]}"
# Decimal degrees in one rational; 0/0 seconds beside whole minutes; 0/0 degrees.
make pos-one-rational "${paris[@]}" "${when[@]}"
gps pos-one-rational 2 5 488566/10000
gps pos-one-rational 4 5 23522/10000
make pos-zero-seconds "${paris[@]}" "${when[@]}"
gps pos-zero-seconds 2 5 48/1 51/1 0/0
gps pos-zero-seconds 4 5 2/1 21/1 0/0
make pos-zero-degrees "${paris[@]}" "${when[@]}"
gps pos-zero-degrees 2 5 0/0 51/1 0/0
# XMP only, in the `DD,MM.mmmmk` form of the XMP specification.
make pos-xmp-minutes -XMP-exif:GPSLatitude="48,51.396N" -XMP-exif:GPSLongitude="2,21.132E" \
  "${when[@]}"
# Mapillary's JSON in ImageDescription, and nothing else.
make pos-mapillary -ImageDescription='{"MAPLatitude": 45.764043, "MAPLongitude": 4.835659,
"MAPCaptureTime": "2021_06_15_08_30_12_345", "MAPCompassHeading": {"TrueHeading": 271.5,
"MagneticHeading": 270.2}, "MAPDeviceMake": "Apple", "MAPDeviceModel": "iPhone 12"}'
# Broken positions.
make pos-null-island -GPSLatitude=0 -GPSLatitudeRef=N -GPSLongitude=0 -GPSLongitudeRef=E \
  "${when[@]}"
make pos-out-of-range "${paris[@]}" "${when[@]}"
gps pos-out-of-range 2 5 95/1 0/1 0/1

## Clocks. exiftool takes the GPS date and time as UTC.
# New York, 20:30 local on June 1st is 00:30 UTC on June 2nd.
make time-gps-next-day -GPSLatitude=40.7128 -GPSLatitudeRef=N -GPSLongitude=74.006 \
  -GPSLongitudeRef=W -DateTimeOriginal="2024:06:01 20:30:00" -GPSDateStamp=2024:06:02 \
  -GPSTimeStamp=00:30:00
make time-offset-kathmandu -GPSLatitude=27.7172 -GPSLatitudeRef=N -GPSLongitude=85.324 \
  -GPSLongitudeRef=E -DateTimeOriginal="2024:03:10 12:00:00" -OffsetTimeOriginal=+05:45
make time-offset-newfoundland -GPSLatitude=47.5615 -GPSLatitudeRef=N -GPSLongitude=52.7126 \
  -GPSLongitudeRef=W -DateTimeOriginal="2024:01:15 09:00:00" -OffsetTimeOriginal=-03:30
make time-zone-of-position "${paris[@]}" -DateTimeOriginal="2024:01:15 12:00:00"
# A broken clock with sub-seconds and an offset would win over a whole-second GPS time.
make time-camera-1970 "${paris[@]}" -DateTimeOriginal="1970:01:01 00:00:05" \
  -SubSecTimeOriginal=50 -OffsetTimeOriginal=+00:00 -GPSDateStamp=2024:04:04 \
  -GPSTimeStamp=09:30:06
make time-gps-1980 "${paris[@]}" -DateTimeOriginal="2024:04:04 11:30:06" \
  -OffsetTimeOriginal=+02:00 -GPSDateStamp=1980:01:06 -GPSTimeStamp=00:00:00
# 2024-04-04T09:30:06Z minus 7168 days (1024 weeks).
make time-gps-rollover "${paris[@]}" -DateTimeOriginal="2024:04:04 11:30:06" \
  -OffsetTimeOriginal=+02:00 -GPSDateStamp=2004:08:19 -GPSTimeStamp=09:30:06
make time-camera-future "${paris[@]}" -DateTimeOriginal="2031:01:01 10:00:00" \
  -SubSecTimeOriginal=5 -OffsetTimeOriginal=+01:00 -GPSDateStamp=2024:04:04 \
  -GPSTimeStamp=09:30:06
make time-only-1970 "${paris[@]}" -DateTimeOriginal="1970:01:01 00:00:00"
make time-only-future "${paris[@]}" -GPSDateStamp=2099:01:01 -GPSTimeStamp=12:00:00
make time-none "${paris[@]}"
# Three pictures in one second, told apart by sub-seconds only: in a sub-second tag (GPS
# time without), and in decimal GPS seconds.
for sub in 10 50 90; do
  make "time-subsec-$sub" "${paris[@]}" -DateTimeOriginal="2024:04:04 11:30:06" \
    -SubSecTimeOriginal="$sub" -GPSDateStamp=2024:04:04 -GPSTimeStamp=09:30:06
  make "time-gps-decimal-$sub" "${paris[@]}" -DateTimeOriginal="2024:04:04 11:30:06" \
    -GPSDateStamp=2024:04:04 -GPSTimeStamp="09:30:06.$sub"
done
