#!/usr/bin/env bash
# Packages an already built profile (debug | release) into OUT (default target/packages):
#   switchyard_<version>_<arch>.deb       the studio (desktop entry, icons) and the `switchyard` command line
#   switchyard-node_<version>_<arch>.deb  switchyard-node as a systemd service (packaging/node/)
#   Switchyard_<version>_<arch>.AppImage  the studio (with APPIMAGE=1; the Tauri bundler downloads
#                                          its tools, linuxdeploy and AppRun, from github.com)
# The binaries are packaged from stripped copies: the bundler patches the binary it bundles, and
# tests may be running the originals.
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-release}"
out="${2:-target/packages}"
appimage="${APPIMAGE:-0}"
bin="target/$profile"
version=$(sed -nE 's/^version = "([^"]+)"/\1/p' Cargo.toml | head -1)
arch=$(dpkg --print-architecture)
for b in switchyard-studio switchyard switchyard-node; do
  [[ -x "$bin/$b" ]] || { echo "error: $bin/$b is missing: build it first (make package does)" >&2; exit 1; }
done
tauri=ui/node_modules/.bin/tauri
[[ -x $tauri ]] || { echo "error: $tauri is missing: install the UI's packages (cd ui && npm install)" >&2; exit 1; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$out" "$stage/target/$profile"
for b in switchyard-studio switchyard switchyard-node; do
  strip --strip-debug -o "$stage/target/$profile/$b" "$bin/$b"
done

# The studio, by the Tauri bundler, with the command line beside it in /usr/bin.
config=$(printf '{"bundle":{"active":true,"linux":{"deb":{"files":{"/usr/bin/switchyard":"%s"}}}}}' "$stage/target/$profile/switchyard")
flags=(--ci --config "$config")
[[ $profile == debug ]] && flags+=(--debug)
bundles=deb
[[ $appimage == 1 ]] && bundles=deb,appimage
if ! CARGO_TARGET_DIR="$stage/target" "$tauri" bundle "${flags[@]}" --bundles "$bundles" >"$stage/bundle.log" 2>&1; then
  cat "$stage/bundle.log" >&2
  if grep -q "failed to lookup address\|Downloading" "$stage/bundle.log"; then
    echo "error: the AppImage needs the Tauri bundler's tools from github.com, which cannot be reached from here (APPIMAGE=0 builds the .debs alone)" >&2
  fi
  exit 1
fi
cp "$stage/target/$profile/bundle/deb/"*.deb "$out/"
if [[ $appimage == 1 ]]; then cp "$stage/target/$profile/bundle/appimage/"*.AppImage "$out/"; fi

# The node, as a Debian package made by dpkg-deb.
root="$stage/node"
install -D -m755 "$stage/target/$profile/switchyard-node" "$root/usr/bin/switchyard-node"
install -D -m644 packaging/node/switchyard-node.service "$root/lib/systemd/system/switchyard-node.service"
install -D -m755 packaging/node/first-start "$root/usr/lib/switchyard/first-start"
install -D -m644 packaging/node/node.toml "$root/etc/switchyard/node.toml"
install -d "$root/DEBIAN"
install -m755 packaging/node/postinst packaging/node/prerm packaging/node/postrm "$root/DEBIAN/"
echo /etc/switchyard/node.toml > "$root/DEBIAN/conffiles"
cat > "$root/DEBIAN/control" <<CONTROL
Package: switchyard-node
Version: $version
Architecture: $arch
Maintainer: Switchyard <switchyard@localhost>
Section: database
Priority: optional
Depends: libc6, passwd, coreutils
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Description: Switchyard instance server
 SQLite storage, a HarperDB-style Operations API and replication over the
 SocketCluster protocol, run as the systemd service switchyard-node (its own
 user, data in /var/lib/switchyard, settings in /etc/switchyard/node.toml).
CONTROL
level=9
[[ $profile == debug ]] && level=1
dpkg-deb --root-owner-group -Zgzip -z$level --build "$root" "$out/switchyard-node_${version}_${arch}.deb" >/dev/null
for f in "$out"/*.deb "$out"/*.AppImage; do
  [[ -e $f ]] && echo "$(stat -c %s "$f") $f"
done
exit 0
