#!/bin/sh
# The Debian/Ubuntu libraries Composer uses when they are there: FluidSynth (instrument sounds from a
# SoundFont, in the app and in `composer render`), Qt's X11 libraries (the window) and the PulseAudio client
# (playback). Run as root on a machine with apt-get, it installs the missing ones; otherwise it says what to
# install. It never fails: Composer runs without them (its own synth, no window, no sound) and says so.
PACKAGES="libfluidsynth3 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
libxkbcommon-x11-0 libpulse0"
missing=""
for package in $PACKAGES; do
    dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    limit=""
    command -v timeout >/dev/null 2>&1 && limit="timeout 300"
    if ! $limit apt-get install -y -qq $missing >/dev/null 2>&1; then
        $limit apt-get update -qq >/dev/null 2>&1
        $limit apt-get install -y -qq $missing >/dev/null 2>&1 || echo "note: could not install$missing; Composer runs without them"
    fi
else
    echo "note: for instrument sounds, the window and playback, install:$missing (sudo apt-get install ...)"
fi
exit 0
