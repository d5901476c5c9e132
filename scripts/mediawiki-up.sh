#!/usr/bin/env bash
# Start a throw-away, real MediaWiki (Debian's package) on loopback, with SQLite
# and PHP's built-in web server. Everything the wiki writes lives under DIR.
#
# usage: mediawiki-up.sh DIR [PORT]          (PORT default 8181)
# env:   MW_JOB_RUN_RATE   $wgJobRunRate (default 0: jobs only run via runJobs.php,
#                          see DIR/run-jobs.sh; 1 = MediaWiki's default, one job
#                          per web request)
#        MW_INSTALL_PACKAGES=1  install missing Debian packages with apt-get
#                          (default: fail, naming them)
#
# Prints the server PID, the API URL and the credentials, and writes them to
# DIR/wiki.env (sourceable, for tests). Stop with mediawiki-down.sh DIR.
#
# Accounts made:
#   Admin      / AdminPass-1234567                  (sysop, bureaucrat, from install.php)
#   UndoBot    / BotUserPass-1234567                (bot, sysop)   main password
#   UndoBot@ci / 0123456789abcdefghijklmnopqrstuv   bot password (action=login)
#   Pintoch    / PintochPass-1234567                (plain user: plays the "tool" user)
#   Pintoch@qs / qsqsqsqsqsqsqsqsqsqsqsqsqsqsqsqs   bot password (action=login)
# NB: bot passwords must match ^[0-9a-w]{32,}$, or action=login does not even try
# them as bot passwords and answers "Incorrect username or password".
set -euo pipefail

DIR=${1:?usage: $0 DIR [PORT]}
PORT=${2:-8181}
JOB_RUN_RATE=${MW_JOB_RUN_RATE:-0}
MW=/usr/share/mediawiki
PKGS=(mediawiki php-sqlite3 php-cli php-intl php-mbstring php-xml)
t0=$(date +%s.%N)
log() { printf '[mediawiki-up %5.1fs] %s\n' "$(echo "$(date +%s.%N) - $t0" | bc)" "$*" >&2; }
command -v bc >/dev/null || log() { printf '[mediawiki-up] %s\n' "$*" >&2; }

# ---------------------------------------------------------------- packages ---
# Installing is the job of CI's setup (or yours); this script only checks, unless
# MW_INSTALL_PACKAGES=1 asks it to install them.
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ ${MW_INSTALL_PACKAGES:-0} != 1 ]]; then
    echo "missing packages: ${missing[*]}" >&2
    echo "install them: apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${PKGS[*]}" >&2
    echo "(or run this script with MW_INSTALL_PACKAGES=1)" >&2
    exit 1
  fi
  SUDO=; [[ $(id -u) == 0 ]] || SUDO=sudo
  log "installing ${missing[*]} (apt, --no-install-recommends)"
  # mediawiki depends on "apache2 | httpd": apache2 gets installed. Make sure its
  # postinst does not start it (it would listen on *:80).
  made_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d; made_policy=1
  fi
  aptlog=$(mktemp)
  rc=0
  { $SUDO apt-get update -qq &&
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${PKGS[@]}"; } > "$aptlog" 2>&1 || rc=$?
  if ((made_policy)); then $SUDO rm -f /usr/sbin/policy-rc.d; fi
  if ((rc)); then cat "$aptlog" >&2; echo "apt-get failed ($rc)" >&2; exit 1; fi
  rm -f "$aptlog"
  log "packages installed"
fi

# --------------------------------------------------------------- directory ---
if [[ -f $DIR/server.pid ]] && kill -0 "$(cat "$DIR/server.pid")" 2>/dev/null; then
  echo "a wiki is already running from $DIR (pid $(cat "$DIR/server.pid")); run mediawiki-down.sh $DIR" >&2
  exit 1
fi
if [[ -d $DIR && -n $(ls -A "$DIR") && ! -f $DIR/.mediawiki-test ]]; then
  echo "$DIR exists, is not empty and was not made by this script; refusing to wipe it" >&2
  exit 1
fi
rm -rf "$DIR"
mkdir -p "$DIR"/{data,cache,images}
touch "$DIR/.mediawiki-test"
DIR=$(cd "$DIR" && pwd)

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "something already listens on 127.0.0.1:$PORT" >&2; exit 1
fi

# ------------------------------------------------------------------ install ---
# MW_CONFIG_FILE (env, honoured by MediaWiki >= 1.38) points every entry point and
# maintenance script at DIR/LocalSettings.php, so nothing is written to /etc or
# /var/lib/mediawiki, and several wikis can coexist.
export MW_CONFIG_FILE=$DIR/LocalSettings.php
SERVER=http://127.0.0.1:$PORT
php $MW/maintenance/install.php --quiet \
    --dbtype sqlite --dbpath "$DIR/data" --dbname wiki \
    --server "$SERVER" --scriptpath '' --confpath "$DIR" \
    --lang en --skins Vector --pass 'AdminPass-1234567' \
    TestWiki Admin > "$DIR/install.log" 2>&1 \
  || { cat "$DIR/install.log" >&2; exit 1; }
log "install.php done"

cat >> "$DIR/LocalSettings.php" <<EOF

# ---- added by mediawiki-up.sh ----
# Wikidata-like namespace numbers: items live in 0, properties in 120, lexemes in 146.
\$wgExtraNamespaces[120] = 'Property';
\$wgExtraNamespaces[121] = 'Property_talk';
\$wgExtraNamespaces[146] = 'Lexeme';
\$wgExtraNamespaces[147] = 'Lexeme_talk';
\$wgContentNamespaces = [ 0, 120, 146 ];
\$wgJobRunRate = $JOB_RUN_RATE;
\$wgCacheDirectory = "$DIR/cache";
\$wgUploadDirectory = "$DIR/images";
\$wgEnableEmail = false;            # no MTA here
\$wgEnableBotPasswords = true;      # (default, stated for clarity)
\$wgGroupPermissions['user']['noratelimit'] = true;  # tests make bursts of edits
\$wgShowExceptionDetails = true;
\$wgDebugLogGroups['exception'] = "$DIR/exception.log";
\$wgDebugLogGroups['error'] = "$DIR/exception.log";
EOF

# -------------------------------------------------------------------- users ---
mw() { php "$MW/maintenance/$1.php" "${@:2}" >> "$DIR/install.log" 2>&1 || { cat "$DIR/install.log" >&2; exit 1; }; }
mw createAndPromote --bot --sysop UndoBot 'BotUserPass-1234567'
mw createBotPassword --appid ci \
   --grants basic,highvolume,editpage,editprotected,createeditmovepage,delete,patrol,rollback \
   UndoBot 0123456789abcdefghijklmnopqrstuv
mw createAndPromote Pintoch 'PintochPass-1234567'
mw createBotPassword --appid qs --grants basic,highvolume,editpage,createeditmovepage \
   Pintoch qsqsqsqsqsqsqsqsqsqsqsqsqsqsqsqs
# Wikimedia's 'toollabs' interwiki prefix (used by EditGroups/QuickStatements summaries),
# so that parsedcomment renders [[:toollabs:...]] as an external interwiki link, as on Wikidata.
mw sql --query "INSERT INTO interwiki (iw_prefix, iw_url, iw_api, iw_wikiid, iw_local, iw_trans) VALUES ('toollabs', 'https://iw.toolforge.org/\$1', '', '', 0, 0)"
log "users created"

cat > "$DIR/run-jobs.sh" <<EOF
#!/bin/sh
# Run MediaWiki's pending jobs now (e.g. revertedTagUpdate, which adds mw-reverted).
MW_CONFIG_FILE='$DIR/LocalSettings.php' exec php $MW/maintenance/runJobs.php --quiet "\$@"
EOF
chmod +x "$DIR/run-jobs.sh"

# ------------------------------------------------------------------- server ---
# setsid: own session/process group, so it outlives this script and can be
# stopped by PID alone. One worker (the default) serialises requests, so a
# request's deferred updates are done before the next request starts.
setsid env MW_CONFIG_FILE="$DIR/LocalSettings.php" \
  php -S "127.0.0.1:$PORT" -t "$MW" > "$DIR/server.log" 2>&1 < /dev/null &
PID=$!
echo "$PID" > "$DIR/server.pid"

API=$SERVER/api.php
for _ in $(seq 1 150); do
  # php rather than curl: php-cli is needed anyway.
  if php -r '$c = stream_context_create(["http" => ["timeout" => 5]]); echo @file_get_contents($argv[1], false, $c);' \
       "$API?action=query&meta=siteinfo&format=json" 2>/dev/null \
       | grep -q '"generator":"MediaWiki'; then ready=1; break; fi
  kill -0 "$PID" 2>/dev/null || break
  sleep 0.2
done
if [[ ${ready:-0} != 1 ]]; then
  echo "api.php did not answer; server log:" >&2; cat "$DIR/server.log" >&2
  kill "$PID" 2>/dev/null || true; rm -f "$DIR/server.pid"; exit 1
fi
log "api.php answers"

cat > "$DIR/wiki.env" <<EOF
MW_DIR='$DIR'
MW_PID=$PID
MW_SERVER='$SERVER'
MW_API_URL='$API'
MW_ADMIN_USER='Admin'
MW_ADMIN_PASS='AdminPass-1234567'
MW_BOT_USER='UndoBot@ci'
MW_BOT_PASS='0123456789abcdefghijklmnopqrstuv'
MW_BOT_MAIN_USER='UndoBot'
MW_BOT_MAIN_PASS='BotUserPass-1234567'
MW_TOOL_USER='Pintoch@qs'
MW_TOOL_PASS='qsqsqsqsqsqsqsqsqsqsqsqsqsqsqsqs'
MW_RUN_JOBS='$DIR/run-jobs.sh'
EOF
cat "$DIR/wiki.env"
