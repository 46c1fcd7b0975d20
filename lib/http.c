/* The libcurl set-up of a Chat Completions POST, shared by llm-request
 * and llm-holder so that both send exactly the same request. */
#include <stdlib.h>

#include "common.h"
#include "http.h"

const char *const http_transport_env[] = {
	"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
	"no_proxy", "NO_PROXY", NULL
};

void
http_setup(CURL *curl, const struct http_call *call, char *errbuf)
{
	curl_easy_setopt(curl, CURLOPT_URL, call->url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, call->headers);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "llm-tools/" LLM_TOOLS_VERSION);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, call->body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)call->body_len);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(call->connect_timeout * 1000));
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(call->timeout * 1000));
	curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	if (call->cainfo != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, call->cainfo);
	if (call->capath != NULL)
		curl_easy_setopt(curl, CURLOPT_CAPATH, call->capath);
}

static const char *
nonempty_env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

void
http_ca_choice(const char *cacert, const char **cainfo, const char **capath)
{
	*cainfo = cacert;
	*capath = NULL;
	if (cacert != NULL)
		return;
	/* curl(1): CURL_CA_BUNDLE alone, or SSL_CERT_FILE and SSL_CERT_DIR. */
	if ((*cainfo = nonempty_env("CURL_CA_BUNDLE")) != NULL)
		return;
	*cainfo = nonempty_env("SSL_CERT_FILE");
	*capath = nonempty_env("SSL_CERT_DIR");
}

int
http_certificate_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return 1;
	default:
		return 0;
	}
}
