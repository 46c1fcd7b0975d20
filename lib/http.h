/*
 * One HTTP POST as llm-request and llm-holder make it: the libcurl
 * options both set, the certificate authorities curl(1) would use, and
 * which transfer errors a retry cannot fix.
 */
#ifndef LLM_HTTP_H
#define LLM_HTTP_H

#include <curl/curl.h>
#include <stddef.h>

/* The environment variables that change how libcurl connects (proxies);
 * NULL-terminated. A connection holder serves only a client whose
 * values of these equal its own. */
extern const char *const http_transport_env[];

struct http_call {
	const char *url;
	const char *body;
	size_t body_len;
	struct curl_slist *headers;
	double timeout, connect_timeout, idle_timeout;  /* seconds */
	const char *cainfo, *capath;   /* NULL: libcurl's default store */
};

/* Set every option of call on curl, and errbuf (CURL_ERROR_SIZE). The
 * caller sets the callbacks. */
void http_setup(CURL *curl, const struct http_call *call, char *errbuf);

/* The CA file and directory as curl(1) chooses them: cacert (--cacert)
 * when given, else $CURL_CA_BUNDLE, else $SSL_CERT_FILE and
 * $SSL_CERT_DIR; NULL for what is not set. */
void http_ca_choice(const char *cacert, const char **cainfo,
    const char **capath);

/* Is rc a failed certificate check, or an unusable CA file, which no
 * retry can fix? */
int http_certificate_error(CURLcode rc);

/* What to do about a certificate error, for the end of its message. */
#define HTTP_CA_HINT "give the server's CA with --cacert FILE, or set " \
	"CURL_CA_BUNDLE, SSL_CERT_FILE or SSL_CERT_DIR"

#endif
