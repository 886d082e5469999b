#!/usr/bin/env bash
# Remakes the crafted files under hostile/ and direction_kind/ that tests/hostile.rs and
# tests/direction_kind.rs read. Needs libjpeg-turbo-progs (`cjpeg`, `jpegtran`), ImageMagick
# (apt's, for the CMYK picture), exiftool and python3 (for the pixels and byte edits). The output is small (a few kB per file)
# and committed, so the tests do not need these tools.
set -euo pipefail
cd "$(dirname "$0")"
hostile=hostile
kind=direction_kind
mkdir -p "$hostile" "$kind"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A tiny valid picture with the two mandatory values (position and capture time).
python3 -c 'import sys; sys.stdout.buffer.write(b"P6 64 32 255\n" + bytes(
    (x * 4, y * 8, 128) [c] for y in range(32) for x in range(64) for c in range(3)))' \
  > "$work/plain.ppm"
cjpeg -quality 80 "$work/plain.ppm" > "$work/plain.jpg"
exiftool -q -overwrite_original -all= \
  -GPSLatitude=48.8566 -GPSLatitudeRef=N -GPSLongitude=2.3522 -GPSLongitudeRef=E \
  -DateTimeOriginal="2024:04:04 11:30:06" -Make=Test -Model=Crafted "$work/plain.jpg"
cp "$work/plain.jpg" "$hostile/base.jpg"

# Byte edits, by offset found in the file rather than hard-coded.
edit() { python3 - "$@"; }

## Not JPEG at all.
: > "$hostile/empty.jpg"
printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0' > "$hostile/png.jpg"
printf 'hello, this is text named like a picture\n' > "$hostile/text.jpg"
printf '\xff\xd8' > "$hostile/soi-only.jpg"

## Cut short inside the header: in the EXIF segment, in the frame header, before the scan.
edit "$work/plain.jpg" "$hostile" <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
out = sys.argv[2]
sof = data.index(b'\xff\xc0')
sos = data.index(b'\xff\xda')
open(f'{out}/truncated-in-exif.jpg', 'wb').write(data[:40])
open(f'{out}/truncated-in-sof.jpg', 'wb').write(data[:sof + 6])
open(f'{out}/truncated-before-sos.jpg', 'wb').write(data[:sos])
PY

## Valid JPEGs of the less common kinds: their metadata must read as usual.
jpegtran -copy all -progressive "$work/plain.jpg" > "$hostile/progressive.jpg"
jpegtran -copy all -arithmetic "$work/plain.jpg" > "$hostile/arithmetic.jpg"
/usr/bin/convert "$work/plain.ppm" -colorspace CMYK -quality 80 "$work/cmyk.jpg"
exiftool -q -overwrite_original -TagsFromFile "$work/plain.jpg" -all:all "$work/cmyk.jpg"
cp "$work/cmyk.jpg" "$hostile/cmyk.jpg"

## Frame sizes: huge but legal (the reader reports them), zero (no picture to show).
edit "$work/plain.jpg" "$hostile" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], 'rb').read())
out = sys.argv[2]
sof = data.index(b'\xff\xc0')
def sized(name, width, height):
    copy = bytearray(data)
    copy[sof + 5:sof + 9] = struct.pack('>HH', height, width)
    open(f'{out}/{name}', 'wb').write(copy)
sized('sof-16384x8192.jpg', 16384, 8192)
sized('sof-65535x65535.jpg', 65535, 65535)
sized('sof-zero-width.jpg', 0, 32)
PY

## Broken marker structure: a segment length below 2, a stray byte instead of a marker.
edit "$work/plain.jpg" "$hostile" <<'PY'
import sys
data = bytearray(open(sys.argv[1], 'rb').read())
out = sys.argv[2]
sof = data.index(b'\xff\xc0')
short = bytearray(data); short[sof + 2:sof + 4] = b'\x00\x01'
open(f'{out}/segment-length-1.jpg', 'wb').write(short)
stray = bytearray(data); stray[sof] = 0x42
open(f'{out}/stray-byte.jpg', 'wb').write(stray)
PY

## EXIF: pointers back to themselves, counts and offsets past the end.
edit "$work/plain.jpg" "$hostile" <<'PY'
import struct, sys
data = bytes(open(sys.argv[1], 'rb').read())
out = sys.argv[2]
app1 = data.index(b'Exif\0\0')
tiff = app1 + 6
end = '>' if data[tiff:tiff + 2] == b'MM' else '<'
u16 = lambda b, o: struct.unpack(end + 'H', b[o:o + 2])[0]
u32 = lambda b, o: struct.unpack(end + 'I', b[o:o + 4])[0]
ifd0 = tiff + u32(data, tiff + 4)
count = u16(data, ifd0)

def entry(tag):
    for i in range(count):
        at = ifd0 + 2 + 12 * i
        if u16(data, at) == tag:
            return at
    raise SystemExit(f'tag {tag:#x} not in IFD0')

def save(name, buf):
    open(f'{out}/{name}', 'wb').write(buf)

# IFD0's "next IFD" points at IFD0 itself; the Exif and GPS pointers point at IFD0 too.
loop = bytearray(data)
next_at = ifd0 + 2 + 12 * count
loop[next_at:next_at + 4] = struct.pack(end + 'I', ifd0 - tiff)
save('exif-next-ifd-loop.jpg', loop)
loop = bytearray(data)
for tag in (0x8769, 0x8825):
    at = entry(tag)
    loop[at + 8:at + 12] = struct.pack(end + 'I', ifd0 - tiff)
save('exif-subifd-loop.jpg', loop)

# The GPS IFD pointer points at itself: the IFD holding it.
gps_ifd = tiff + u32(data, entry(0x8825) + 8)
loop = bytearray(data)
gcount = u16(data, gps_ifd)
loop[gps_ifd + 2 + 12 * gcount:gps_ifd + 6 + 12 * gcount] = struct.pack(end + 'I', gps_ifd - tiff)
save('exif-gps-next-loop.jpg', loop)

# Make (ASCII) claims 0xFFFFFFFF bytes; Model's value offset points far past the end.
huge = bytearray(data)
at = entry(0x010F)
huge[at + 4:at + 8] = struct.pack(end + 'I', 0xFFFFFFFF)
save('exif-count-past-end.jpg', huge)
far = bytearray(data)
at = entry(0x0110)
far[at + 8:at + 12] = struct.pack(end + 'I', 0x7FFFFFF0)
save('exif-offset-past-end.jpg', far)

# IFD0 itself starts past the end of the segment.
gone = bytearray(data)
gone[tiff + 4:tiff + 8] = struct.pack(end + 'I', 0xFFFFFF00)
save('exif-ifd0-past-end.jpg', gone)

# IFD0 claims 65535 entries in a segment of a few hundred bytes.
many = bytearray(data)
many[ifd0:ifd0 + 2] = struct.pack(end + 'H', 0xFFFF)
save('exif-entry-count-past-end.jpg', many)
PY

## XMP with entity expansion (billion laughs) and with deep nesting.
laughs='<?xml version="1.0"?><!DOCTYPE x:xmpmeta [<!ENTITY l0 "lol">'
for i in 1 2 3 4 5 6 7 8 9; do
  laughs+="<!ENTITY l$i \"&l$((i-1));&l$((i-1));&l$((i-1));&l$((i-1));&l$((i-1));&l$((i-1));&l$((i-1));&l$((i-1));&l$((i-1));&l$((i-1));\">"
done
laughs+=']><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
laughs+='<rdf:Description xmlns:GPano="http://ns.google.com/photos/1.0/panorama/" '
laughs+='GPano:ProjectionType="&l9;"/></rdf:RDF></x:xmpmeta>'
deep='<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description>'
deep+=$(printf '<a>%.0s' $(seq 1 5000))$(printf '</a>%.0s' $(seq 1 5000))
deep+='</rdf:Description></rdf:RDF></x:xmpmeta>'
edit "$work/plain.jpg" "$hostile" "$laughs" "$deep" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
out = sys.argv[2]
def with_xmp(name, packet):
    payload = b'http://ns.adobe.com/xap/1.0/\0' + packet.encode()
    seg = b'\xff\xe1' + struct.pack('>H', len(payload) + 2) + payload
    open(f'{out}/{name}', 'wb').write(data[:2] + seg + data[2:])
with_xmp('xmp-billion-laughs.jpg', sys.argv[3])
with_xmp('xmp-deep-nesting.jpg', sys.argv[4])
PY

## Heading sources and panorama kinds, on the same tiny picture.
dji='-XMP-drone-dji:all'
exiftool -q -o "$kind/img-direction.jpg" -GPSImgDirection=360 -GPSImgDirectionRef=T \
  -GPSTrack=90 "$work/plain.jpg"
exiftool -q -o "$kind/track.jpg" -GPSTrack=90.5 -GPSTrackRef=T \
  -XMP-GPano:PoseHeadingDegrees=10 "$work/plain.jpg"
exiftool -q -o "$kind/gpano-pose.jpg" -XMP-GPano:PoseHeadingDegrees=370 "$work/plain.jpg"
# DJI's XMP, as xpcomment.jpg (a Mini 3 Pro) writes it: signed yaws in -180..180.
cat > "$work/dji.xmp" <<'XMP'
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF
 xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about=""
 xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/"
 drone-dji:GimbalYawDegree="-123.1" drone-dji:FlightYawDegree="-123.0"
 drone-dji:GimbalPitchDegree="+9.80"/></rdf:RDF></x:xmpmeta>
XMP
cat > "$work/dji-flight.xmp" <<'XMP'
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF
 xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about=""
 xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/" drone-dji:FlightYawDegree="-180.0"/>
</rdf:RDF></x:xmpmeta>
XMP
cp "$work/plain.jpg" "$kind/dji-gimbal.jpg"
exiftool -q -overwrite_original '-XMP<='"$work/dji.xmp" "$kind/dji-gimbal.jpg"
cp "$work/plain.jpg" "$kind/dji-flight.jpg"
exiftool -q -overwrite_original '-XMP<='"$work/dji-flight.xmp" "$kind/dji-flight.jpg"
: "$dji"

# GPano: a full sphere, a vertically cropped one, a partial (horizontally cropped) one.
pano() {
  local name=$1 full_w=$2 full_h=$3 w=$4 h=$5 left=$6 top=$7
  exiftool -q -o "$kind/$name" -XMP-GPano:ProjectionType=equirectangular \
    -XMP-GPano:FullPanoWidthPixels="$full_w" -XMP-GPano:FullPanoHeightPixels="$full_h" \
    -XMP-GPano:CroppedAreaImageWidthPixels="$w" -XMP-GPano:CroppedAreaImageHeightPixels="$h" \
    -XMP-GPano:CroppedAreaLeftPixels="$left" -XMP-GPano:CroppedAreaTopPixels="$top" \
    "$work/plain.jpg"
}
pano pano-full.jpg 8192 4096 8192 4096 0 0
pano pano-vertical-crop.jpg 8192 4096 8192 1024 0 1024
pano pano-partial.jpg 8192 4096 2048 1024 3072 1536
pano pano-past-seam.jpg 8192 4096 2048 1024 7000 1536
exiftool -q -o "$kind/cylindrical-uncropped.jpg" -XMP-GPano:ProjectionType=cylindrical \
  "$work/plain.jpg"
