#!/bin/sh
# What the tests need besides Python packages: Debian's chromium for the
# browser tests, poppler-utils and gettext for the PDF and translation tests,
# and a PostgreSQL server on 127.0.0.1:5432 (trust auth).
set -eu

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing chromium (browser tests)..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Browser tests need /usr/bin/chromium: sudo apt-get install chromium" >&2
    exit 1
  fi
fi

# SPEC V6: the PDF tests read PDFs back with poppler's pdftotext. SPEC V10:
# the catalog test runs makemessages, which needs GNU gettext.
need=""
command -v pdftotext >/dev/null 2>&1 || need="$need poppler-utils"
command -v msgmerge >/dev/null 2>&1 || need="$need gettext"
if [ -n "$need" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing$need (PDF and translation tests)..."
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
  else
    echo "The tests need:$need (sudo apt-get install$need)" >&2
    exit 1
  fi
fi

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    version=$(ls /etc/postgresql | sort -n | tail -n 1)
    echo "Starting PostgreSQL $version..."
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do pg_up && break; sleep 1; done
  fi
fi
if ! pg_up; then
  echo "PostgreSQL is not reachable on 127.0.0.1:5432; the PostgreSQL test run needs it." >&2
  exit 1
fi

# MariaDB on 127.0.0.1:3306 (root, no password) for the Open Dental sync tests,
# which create and drop their own od_test_<random> databases.
maria_up() { mysqladmin --protocol=tcp -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1; }
if ! maria_up; then
  if [ ! -x /usr/sbin/mariadbd ] && [ "$(id -u)" = 0 ]; then
    echo "Installing MariaDB (Open Dental sync tests)..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null
  fi
  if [ -x /usr/sbin/mariadbd ]; then
    echo "Starting MariaDB..."
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do maria_up && break; sleep 1; done
  fi
fi
if ! maria_up; then
  echo "MariaDB is not reachable on 127.0.0.1:3306 (root, no password); the Open Dental tests need it." >&2
  exit 1
fi
