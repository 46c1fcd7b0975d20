# Loaded by the tests of real-network behaviour after helper.bash: a
# private CA and a server certificate made with openssl, nginx
# terminating TLS (HTTP/2 offered) in front of llm-mock, tinyproxy, and
# connection holders; teardown stops every one of them.

NGINX_PID=
PROXY_PID=
HOLDER_PIDS=

teardown() {
	local pid
	for pid in $NGINX_PID $PROXY_PID $HOLDER_PIDS; do
		kill "$pid" 2>/dev/null
	done
	[ -z "$NGINX_PID" ] || wait "$NGINX_PID" 2>/dev/null
	[ -z "$PROXY_PID" ] || wait "$PROXY_PID" 2>/dev/null
	NGINX_PID= PROXY_PID= HOLDER_PIDS=
	stop_mock
	stop_run_holder
}

# make_ca NAME: a CA in NAME.crt/NAME.key and, signed by it, a
# certificate for 127.0.0.1 in NAME-server.crt/NAME-server.key.
make_ca() {
	local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
	openssl req -x509 "${ec[@]}" -keyout "$TMP/$1.key" -out "$TMP/$1.crt" \
		-subj "/CN=$1 test CA" -days 2 2>/dev/null || return 1
	openssl req "${ec[@]}" -keyout "$TMP/$1-server.key" \
		-out "$TMP/$1-server.csr" -subj /CN=127.0.0.1 2>/dev/null || return 1
	printf 'subjectAltName=IP:127.0.0.1\n' >"$TMP/$1.ext"
	openssl x509 -req -in "$TMP/$1-server.csr" -CA "$TMP/$1.crt" \
		-CAkey "$TMP/$1.key" -CAcreateserial -days 2 \
		-extfile "$TMP/$1.ext" -out "$TMP/$1-server.crt" 2>/dev/null
}

# start_tls [CA]: make the CA (default "ca") and nginx on a free port
# with its server certificate, proxying to the running llm-mock. Sets
# TLS_URL; nginx logs "$connection $connection_requests $status
# $server_protocol" per request to $TMP/access.log.
start_tls() {
	local ca=${1:-ca} port i
	[ -s "$TMP/$ca.crt" ] || make_ca "$ca" || return 1
	mkdir -p "$TMP/nginx"
	port=$(unused_port)
	cat >"$TMP/nginx/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
events { worker_connections 64; }
http {
	log_format conn '\$connection \$connection_requests \$status \$server_protocol';
	access_log $TMP/access.log conn;
	client_body_temp_path $TMP/nginx/body;
	proxy_temp_path $TMP/nginx/proxy;
	fastcgi_temp_path $TMP/nginx/fastcgi;
	uwsgi_temp_path $TMP/nginx/uwsgi;
	scgi_temp_path $TMP/nginx/scgi;
	keepalive_timeout 60s;
	server {
		listen 127.0.0.1:$port ssl http2;
		ssl_certificate $TMP/$ca-server.crt;
		ssl_certificate_key $TMP/$ca-server.key;
		location = /ready {
			access_log off;
			return 204;
		}
		location / {
			proxy_pass http://127.0.0.1:$MOCK_PORT;
			proxy_buffering off;
			proxy_http_version 1.1;
		}
	}
}
CONF
	: >"$TMP/access.log"
	nginx -e "$TMP/nginx/error.log" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" \
		2>"$TMP/nginx/stderr" &
	NGINX_PID=$!
	for i in $(seq 1 $((200 * TIME_FACTOR))); do
		curl -s -o /dev/null --cacert "$TMP/$ca.crt" "https://127.0.0.1:$port/ready" &&
			break
		kill -0 "$NGINX_PID" 2>/dev/null || { cat "$TMP/nginx/stderr" >&2; return 1; }
		sleep 0.025
	done
	TLS_URL="https://127.0.0.1:$port/v1"
	export TLS_URL
}

# start_proxy: tinyproxy on a free port; sets PROXY_URL, logs to
# $TMP/proxy.log.
start_proxy() {
	local port i
	port=$(unused_port)
	cat >"$TMP/tinyproxy.conf" <<CONF
Port $port
Listen 127.0.0.1
Timeout 60
LogFile "$TMP/proxy.log"
LogLevel Connect
MaxClients 20
Allow 127.0.0.1
CONF
	[ "$(id -u)" -ne 0 ] || printf 'User %s\nGroup %s\n' "$(id -un)" "$(id -gn)" \
		>>"$TMP/tinyproxy.conf"
	tinyproxy -d -c "$TMP/tinyproxy.conf" >"$TMP/proxy.err" 2>&1 &
	PROXY_PID=$!
	for i in $(seq 1 $((200 * TIME_FACTOR))); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		kill -0 "$PROXY_PID" 2>/dev/null || { cat "$TMP/proxy.err" >&2; return 1; }
		sleep 0.025
	done
	PROXY_URL="http://127.0.0.1:$port"
	export PROXY_URL
}

# ended PID: wait (a while) until process PID has ended; fails if it
# has not.
ended() {
	local i
	for i in $(seq 1 $((100 * TIME_FACTOR))); do
		running "$1" || return 0
		sleep 0.05
	done
	! running "$1"
}

# start_holder [ARGS...]: llm-holder on $TMP/hold/sock (a 0700
# directory); sets and exports LLM_HOLDER, HOLDER_PID.
start_holder() {
	mkdir -p -m 700 "$TMP/hold"
	HOLDER_PID=$(llm-holder "$@" "$TMP/hold/sock") || return 1
	HOLDER_PIDS="$HOLDER_PIDS $HOLDER_PID"
	LLM_HOLDER=$TMP/hold/sock
	export LLM_HOLDER
}

# access_lines N: wait (a while) until nginx has logged N requests; the
# log is written after the response has gone.
access_lines() {
	local i
	for i in $(seq 1 $((100 * TIME_FACTOR))); do
		[ "$(wc -l <"$TMP/access.log")" -ge "$1" ] && break
		sleep 0.02
	done
	[ "$(wc -l <"$TMP/access.log")" -eq "$1" ]
}

# The number of distinct connections in nginx's access log.
connections() {
	awk '{print $1}' "$TMP/access.log" | sort -u | wc -l
}

REQUEST='{"messages":[{"role":"user","content":"hi"}]}'
