/* The client side of the connection holder, and the records both sides
 * write (see holder.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "holder.h"

int
holder_send(int fd, char type, const void *data, size_t len)
{
	unsigned char head[5];
	struct iovec iov[2];
	struct msghdr msg = {0};
	ssize_t n;

	if (len > HOLDER_RECORD_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	head[0] = (unsigned char)type;
	head[1] = (unsigned char)(len >> 24);
	head[2] = (unsigned char)(len >> 16);
	head[3] = (unsigned char)(len >> 8);
	head[4] = (unsigned char)len;
	iov[0].iov_base = head;
	iov[0].iov_len = sizeof head;
	iov[1].iov_base = (void *)data;
	iov[1].iov_len = len;
	msg.msg_iov = iov;
	msg.msg_iovlen = 2;
	while (msg.msg_iovlen > 0) {
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		while (msg.msg_iovlen > 0 && (size_t)n >= msg.msg_iov->iov_len) {
			n -= (ssize_t)msg.msg_iov->iov_len;
			msg.msg_iov++;
			msg.msg_iovlen--;
		}
		if (msg.msg_iovlen > 0) {
			msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + n;
			msg.msg_iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* Read exactly len bytes: 1, 0 at end of file before any, -1 else. */
static int
read_exactly(int fd, void *p, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, (char *)p + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = 0;
			return got == 0 ? 0 : -1;
		}
		got += (size_t)n;
	}
	return 1;
}

int
holder_recv(int fd, char *type, struct buf *data, size_t max)
{
	unsigned char head[5];
	size_t len;
	int rc;

	if ((rc = read_exactly(fd, head, sizeof head)) <= 0)
		return rc;
	len = (size_t)head[1] << 24 | (size_t)head[2] << 16 |
	    (size_t)head[3] << 8 | head[4];
	if (len > max) {
		errno = EMSGSIZE;
		return -1;
	}
	*type = (char)head[0];
	data->len = 0;
	buf_grow(data, len + 1);
	if (len > 0 && read_exactly(fd, data->data, len) != 1)
		return -1;
	data->len = len;
	data->data[len] = '\0';
	return 1;
}

/* Connect to the holder at path if it is this user's; -1 if none. */
static int
holder_connect(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct ucred peer;
	socklen_t len = sizeof peer;
	int fd;

	if (strlen(path) >= sizeof addr.sun_path)
		return -1;
	strcpy(addr.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0 ||
	    peer.uid != getuid()) {
		/* Another user's process never sees the request or the key. */
		close(fd);
		return -1;
	}
	return fd;
}

static int
send_str(int fd, char type, const char *s)
{
	return holder_send(fd, type, s, strlen(s));
}

static int
send_request(int fd, const struct http_call *call)
{
	const struct curl_slist *h;
	const char *const *name;
	char timeouts[96];
	struct buf env = {0};
	int rc = 0;

	snprintf(timeouts, sizeof timeouts, "%.0f %.0f %.0f",
	    call->timeout * 1000, call->connect_timeout * 1000,
	    call->idle_timeout * 1000);
	rc |= send_str(fd, 'V', HOLDER_VERSION);
	rc |= send_str(fd, 'U', call->url);
	for (h = call->headers; h != NULL && rc == 0; h = h->next)
		rc |= send_str(fd, 'H', h->data);
	rc |= holder_send(fd, 'B', call->body, call->body_len);
	rc |= send_str(fd, 'T', timeouts);
	if (call->cainfo != NULL)
		rc |= send_str(fd, 'C', call->cainfo);
	if (call->capath != NULL)
		rc |= send_str(fd, 'P', call->capath);
	for (name = http_transport_env; *name != NULL && rc == 0; name++) {
		const char *v = getenv(*name);
		if (v == NULL)
			continue;
		env.len = 0;
		buf_append_str(&env, *name);
		buf_append_str(&env, "=");
		buf_append_str(&env, v);
		rc |= holder_send(fd, 'E', env.data, env.len);
	}
	buf_free(&env);
	rc |= holder_send(fd, 'Z', "", 0);
	return rc;
}

/* The holder's last record: "curlcode status stalled\nerror text". */
static int
read_end(const struct buf *rec, struct holder_reply *held, char *errbuf)
{
	int rc = CURLE_RECV_ERROR, stalled = 0, used = 0;
	long status = 0;

	if (sscanf(rec->data, "%d %ld %d%n", &rc, &status, &stalled,
	    &used) != 3 || rec->data[used] != '\n') {
		snprintf(errbuf, CURL_ERROR_SIZE, "the connection holder "
		    "answered out of turn");
		return CURLE_RECV_ERROR;
	}
	held->status = status;
	held->stalled = stalled;
	snprintf(errbuf, CURL_ERROR_SIZE, "%s", rec->data + used + 1);
	return rc;
}

int
holder_perform(const char *socket_path, const struct http_call *call,
    curl_write_callback on_header, curl_write_callback on_body, void *userp,
    struct holder_reply *held, char *errbuf)
{
	struct buf rec = {0};
	struct timeval wait;
	int fd, got, started = 0, rc;
	char type;
	double limit = call->timeout + call->connect_timeout + 30;

	held->status = 0;
	held->content_type[0] = '\0';
	held->stalled = 0;
	if ((fd = holder_connect(socket_path)) < 0)
		return HOLDER_BYPASS;
	/* The holder keeps the time; this only outlives a holder that hangs. */
	wait.tv_sec = (time_t)limit;
	wait.tv_usec = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
	if (send_request(fd, call) != 0) {
		close(fd);
		return HOLDER_BYPASS;
	}
	for (;;) {
		got = holder_recv(fd, &type, &rec, HOLDER_RECORD_MAX);
		if (got <= 0) {
			/* The request may have gone out: a failed transfer. */
			if (got < 0 && (errno == EAGAIN ||
			    errno == EWOULDBLOCK)) {
				snprintf(errbuf, CURL_ERROR_SIZE, "the connection "
				    "holder %s did not answer", socket_path);
				rc = CURLE_OPERATION_TIMEDOUT;
			} else {
				snprintf(errbuf, CURL_ERROR_SIZE, "the connection "
				    "holder %s went away", socket_path);
				rc = CURLE_RECV_ERROR;
			}
			break;
		}
		if (type == 'R' && !started) {
			rc = HOLDER_BYPASS;
			break;
		}
		started = 1;
		if (type == 'e') {
			rc = read_end(&rec, held, errbuf);
			break;
		}
		if (type == 'i') {
			char *sp = strchr(rec.data, ' ');
			held->status = strtol(rec.data, NULL, 10);
			snprintf(held->content_type, sizeof held->content_type,
			    "%s", sp != NULL ? sp + 1 : "");
			continue;
		}
		if ((type == 'h' && on_header(rec.data, 1, rec.len, userp) !=
		    rec.len) || (type == 'b' && on_body(rec.data, 1, rec.len,
		    userp) != rec.len)) {
			/* As libcurl does when a callback refuses data. */
			snprintf(errbuf, CURL_ERROR_SIZE, "Failure writing output "
			    "to destination");
			rc = CURLE_WRITE_ERROR;
			break;
		}
	}
	close(fd);
	buf_free(&rec);
	return rc;
}
