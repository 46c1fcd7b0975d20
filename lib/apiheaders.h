/*
 * Where llm-request sends a request and what it says with it: the
 * endpoint of a base URL, the URL as messages show it (without a
 * password), the API key taken out of the environment, and the headers
 * of the request.
 */
#ifndef LLM_APIHEADERS_H
#define LLM_APIHEADERS_H

#include <curl/curl.h>

/* The API when neither -u nor $OPENAI_BASE_URL names one. */
#define DEFAULT_BASE_URL "https://api.openai.com/v1"

/* May s be a header value? No control character but tab: a CR or LF
 * would end the header and start another. */
int header_value_ok(const char *s);

/*
 * The Chat Completions endpoint of base (NULL or "": $OPENAI_BASE_URL,
 * else DEFAULT_BASE_URL) in *url, and the same as messages show it in
 * *shown, both malloc'd for the caller: 0, or 2 after saying why when
 * base is not an http:// or https:// URL (then nothing is allocated).
 */
int api_endpoint(const char *base, char **url, char **shown);

/*
 * The API key, taken out of the environment: copied (malloc'd, NULL when
 * $OPENAI_API_KEY is unset), wiped where the environment keeps it (what
 * /proc/PID/environ shows) and unset, so that it lives in one place
 * until request_headers holds it. Every header value from the
 * environment is checked here, before anything is sent: exit 2 on a
 * control character.
 */
char *take_api_key(void);

/*
 * The request's headers: Content-Type, Accept (an event stream when
 * stream is set), the key (consumed: wiped and freed here) as a bearer
 * token, $OPENAI_ORG_ID and $OPENAI_PROJECT_ID, then the user's (-H,
 * borrowed), whose names win over ours; a key of the user's own
 * (Authorization, api-key, x-api-key) replaces ours. Free the list with
 * free_headers.
 */
struct curl_slist *request_headers(struct curl_slist *user, int stream,
    char *key);

/* Wipe and free a header list: it may hold a credential. */
void free_headers(struct curl_slist *h);

#endif
