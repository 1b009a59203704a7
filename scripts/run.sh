#!/usr/bin/env bash
# Start the action server and the Rasa server; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
RASA_PORT="${RASA_PORT:-5005}"
ACTIONS_PORT="${ACTIONS_PORT:-5055}"
mkdir -p var
# The secret shared with the website for signed-in users' identity tokens. Without one
# configured, each run makes its own (the demo page's sign-in switch uses it).
export IDENTITY_SECRET="${IDENTITY_SECRET:-$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(32))')}"
# The REST channel is for trusted callers with this bearer token. Without one configured, a
# development token is made for this run and written to var/rest_token for scripts and tests.
if [[ -z "${REST_CHANNEL_TOKEN:-}" ]]; then
  REST_CHANNEL_TOKEN="$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))')"
  rest_token_note="(a development token made for this run)"
else
  rest_token_note="(from REST_CHANNEL_TOKEN)"
fi
export REST_CHANNEL_TOKEN
umask 077
printf '%s\n' "${REST_CHANNEL_TOKEN}" > var/rest_token
# The widget's session proofs are signed with this secret. Without one configured, a
# development secret is made once and kept in var/widget_session_secret, so a restart keeps
# the widget's conversations.
if [[ -z "${WIDGET_SESSION_SECRET:-}" ]]; then
  if [[ ! -s var/widget_session_secret ]]; then
    .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))' > var/widget_session_secret
  fi
  WIDGET_SESSION_SECRET="$(cat var/widget_session_secret)"
fi
export WIDGET_SESSION_SECRET
umask 022
# The demo page's "signed in as 张伟" switch: /widget/demo-token exists only with this flag.
export WIDGET_DEMO_IDENTITY="${WIDGET_DEMO_IDENTITY:-1}"
if [[ "${WIDGET_DEMO_IDENTITY,,}" =~ ^(1|true|yes|on)$ ]]; then
  demo_note="on (WIDGET_DEMO_IDENTITY=${WIDGET_DEMO_IDENTITY}): /widget/demo-token signs anyone in as the demo user;
                  for the demo page only, never set it in production"
else
  demo_note="off (WIDGET_DEMO_IDENTITY=${WIDGET_DEMO_IDENTITY}): the demo page's sign-in switch is disabled"
fi
# Assign new handoffs round robin among online agents (HANDOFF_ASSIGNMENT=manual: take by hand only).
export HANDOFF_ASSIGNMENT="${HANDOFF_ASSIGNMENT:-round_robin}"
# Development only: a demo agent and a demo supervisor, with new passwords printed below, so the
# console can be tried at once. Never in production: HANDOFF_DEMO_ACCOUNTS=0 turns it off, and
# the command refuses anything but the embedded SQLite store.
export HANDOFF_DEMO_ACCOUNTS="${HANDOFF_DEMO_ACCOUNTS:-1}"
demo_accounts_note="off (HANDOFF_DEMO_ACCOUNTS=${HANDOFF_DEMO_ACCOUNTS}); add an agent:
                  .venv/bin/python -m bot.handoff.cli add-agent --username xiaowang --name 小王"
if [[ "${HANDOFF_DEMO_ACCOUNTS,,}" =~ ^(1|true|yes|on)$ ]]; then
  if demo_accounts="$(.venv/bin/python -m bot.handoff.cli demo-accounts 2>&1)"; then
    demo_accounts_note="development only (HANDOFF_DEMO_ACCOUNTS=${HANDOFF_DEMO_ACCOUNTS}), new passwords each run:
$(printf '%s\n' "${demo_accounts}" | sed 's/^/                  /')"
  else
    demo_accounts_note="not made: ${demo_accounts}"
  fi
fi

.venv/bin/rasa run actions --actions actions --port "${ACTIONS_PORT}" &
actions_pid=$!
stop() {
  trap - INT TERM EXIT
  kill "${actions_pid}" "${rasa_pid:-}" 2>/dev/null || true
  wait 2>/dev/null || true
  echo "stopped."
}
trap stop INT TERM EXIT

.venv/bin/python -m bot.server run --model models/wallet.tar.gz --endpoints endpoints.yml \
  --credentials credentials.yml --port "${RASA_PORT}" &
rasa_pid=$!

for _ in $(seq 1 180); do
  if curl -fs "http://localhost:${RASA_PORT}/webhooks/rest/" >/dev/null 2>&1; then break; fi
  if ! kill -0 "${rasa_pid}" 2>/dev/null; then echo "the Rasa server failed to start" >&2; exit 1; fi
  sleep 1
done
cat <<MSG

  联合钱包 assistant is running.
  Rasa server:    http://localhost:${RASA_PORT}
  Chat widget:    http://localhost:${RASA_PORT}/widget/demo.html   (demo help-centre page)
  Demo sign-in:   ${demo_note}
  Agent console:  http://localhost:${RASA_PORT}/console/   (assignment: ${HANDOFF_ASSIGNMENT})
  Reports:        http://localhost:${RASA_PORT}/console/insights/reports   (supervisors; review queue: /console/insights/review)
  Demo accounts:  ${demo_accounts_note}
  Talk to it:     curl -s -XPOST http://localhost:${RASA_PORT}/webhooks/rest/webhook \\
                    -H "Authorization: Bearer \$(cat var/rest_token)" \\
                    -H 'Content-Type: application/json' -d '{"sender":"me","message":"我忘记密码了"}'
  REST token:     ${REST_CHANNEL_TOKEN}  ${rest_token_note}, also in var/rest_token
  Action server:  http://localhost:${ACTIONS_PORT}/health
  Wallet backend: the sandbox in var/wallet.db (seeded on first use; make sandbox-reseed)
  Codes and reset links the sandbox "sends":  make outbox        Tickets:  make tickets
  Ctrl-C stops both.

MSG
wait "${rasa_pid}"
