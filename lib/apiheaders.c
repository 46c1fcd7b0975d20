/* Where llm-request sends a request and its headers; see apiheaders.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apiheaders.h"
#include "common.h"

/* The settings of the environment that become headers. */
static const struct {
	const char *name, *env;
} from_env[] = {
	{"OpenAI-Organization", "OPENAI_ORG_ID"},
	{"OpenAI-Project", "OPENAI_PROJECT_ID"},
};

int
header_value_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return 0;
	return 1;
}

/* The endpoint of base: its path without trailing slashes, then
 * /chat/completions, then its query (Azure's ?api-version=...). */
static char *
endpoint_url(const char *base)
{
	const char *p = strstr(base, "://");
	size_t q, n;
	struct buf url = {0};

	p = p != NULL ? p + 3 : base;
	q = (size_t)(p - base) + strcspn(p, "?#");
	for (n = q; n > (size_t)(p - base) && base[n - 1] == '/'; n--)
		;
	buf_append(&url, base, n);
	buf_append_str(&url, "/chat/completions");
	buf_append_str(&url, base + q);
	return url.data;
}

/* url as a message may show it: without a user name or password. */
static char *
shown_url(const char *url)
{
	const char *p = strstr(url, "://"), *at;
	struct buf out = {0};

	if (p == NULL)
		return xstrdup(url);
	p += 3;
	at = memrchr(p, '@', strcspn(p, "/?#"));
	if (at == NULL)
		return xstrdup(url);
	buf_append(&out, url, (size_t)(p - url));
	buf_append_str(&out, at + 1);
	return out.data;
}

int
api_endpoint(const char *base, char **url, char **shown)
{
	char *msg;

	if (base == NULL)
		base = getenv("OPENAI_BASE_URL");
	if (base == NULL || *base == '\0')
		base = DEFAULT_BASE_URL;
	if (strncmp(base, "http://", 7) != 0 &&
	    strncmp(base, "https://", 8) != 0) {
		msg = shown_url(base);
		warnx("base URL must start with http:// or https://: %s", msg);
		free(msg);
		return EXIT_USAGE;
	}
	*url = endpoint_url(base);
	*shown = shown_url(*url);
	return 0;
}

char *
take_api_key(void)
{
	char *v = getenv("OPENAI_API_KEY"), *key = NULL;
	size_t i;

	if (v != NULL) {
		key = xstrdup(v);
		explicit_bzero(v, strlen(v));
		unsetenv("OPENAI_API_KEY");
		if (!header_value_ok(key)) {
			explicit_bzero(key, strlen(key));
			free(key);
			die(EXIT_USAGE, "OPENAI_API_KEY: holds a control "
			    "character (CR, LF, ...); refused");
		}
	}
	for (i = 0; i < sizeof from_env / sizeof from_env[0]; i++)
		if ((v = getenv(from_env[i].env)) != NULL && !header_value_ok(v))
			die(EXIT_USAGE, "%s: holds a control character (CR, LF, "
			    "...); refused", from_env[i].env);
	return key;
}

/* Does the user's -H list set header name (case-insensitive)? */
static int
user_sets(struct curl_slist *user, const char *name)
{
	size_t n = strlen(name);

	for (; user != NULL; user = user->next)
		if (strncasecmp(user->data, name, n) == 0 &&
		    user->data[n] == ':')
			return 1;
	return 0;
}

static struct curl_slist *
append_header(struct curl_slist *h, const char *name, const char *value)
{
	struct buf line = {0};

	buf_append_str(&line, name);
	buf_append_str(&line, ": ");
	buf_append_str(&line, value);
	h = curl_slist_append(h, line.data);
	/* Do not leave a credential behind in freed memory. */
	explicit_bzero(line.data, line.len);
	buf_free(&line);
	if (h == NULL)
		die(EXIT_TRANSIENT, "out of memory");
	return h;
}

/* The bearer token of key, unless the user gives a key of their own:
 * never two credentials in one request. */
static struct curl_slist *
append_key(struct curl_slist *h, struct curl_slist *user, const char *key)
{
	struct buf bearer = {0};

	if (key == NULL || *key == '\0' || user_sets(user, "Authorization") ||
	    user_sets(user, "api-key") || user_sets(user, "x-api-key"))
		return h;
	buf_append_str(&bearer, "Bearer ");
	buf_append_str(&bearer, key);
	h = append_header(h, "Authorization", bearer.data);
	explicit_bzero(bearer.data, bearer.len);
	buf_free(&bearer);
	return h;
}

struct curl_slist *
request_headers(struct curl_slist *user, int stream, char *key)
{
	struct curl_slist *h = NULL, *u;
	const char *v;
	size_t i;

	if (!user_sets(user, "Content-Type"))
		h = append_header(h, "Content-Type", "application/json");
	if (!user_sets(user, "Accept"))
		h = append_header(h, "Accept", stream ? "text/event-stream" :
		    "application/json");
	/* The body is whole and goes at once: no Expect: 100-continue (what
	 * libcurl sends over HTTP/1.1 for a body over 1 MiB), whose answer
	 * costs a round trip, or a second from a server that never sends it. */
	if (!user_sets(user, "Expect") && (h = curl_slist_append(h,
	    "Expect:")) == NULL)
		die(EXIT_TRANSIENT, "out of memory");
	h = append_key(h, user, key);
	if (key != NULL) {
		explicit_bzero(key, strlen(key));
		free(key);
	}
	for (i = 0; i < sizeof from_env / sizeof from_env[0]; i++) {
		v = getenv(from_env[i].env);
		if (v != NULL && *v != '\0' && !user_sets(user, from_env[i].name))
			h = append_header(h, from_env[i].name, v);
	}
	for (u = user; u != NULL; u = u->next)
		if ((h = curl_slist_append(h, u->data)) == NULL)
			die(EXIT_TRANSIENT, "out of memory");
	return h;
}

void
free_headers(struct curl_slist *h)
{
	struct curl_slist *u;

	for (u = h; u != NULL; u = u->next)
		explicit_bzero(u->data, strlen(u->data));
	curl_slist_free_all(h);
}
