// Phenom Chat: explains the admin API's refusals in the Synapse Admin UI.
//
// The stock UI (synapse-admin 0.11.1, authProvider.checkError) logs out on any 401 or 403 from
// /_synapse/admin/* and only says "Your session has ended, please reconnect.", which hides the reason.
// nginx.conf loads this script into index.html before the app's own script; it wraps window.fetch,
// leaves every request and response unchanged, and shows a banner naming the cause:
//   - Synapse's 403 "You are not a server admin": the account is not in the Cognito group chat-admin;
//   - any other 403 (e.g. the ALB's source-address allow-list): the server's own message;
//   - a 401 that is not Matrix JSON: the ALB's Cognito session has ended (reload to sign in again);
//   - Matrix's 401 M_UNKNOWN_TOKEN: the Synapse session has ended.
(function () {
  'use strict';
  var ADMIN_API = '/_synapse/admin/';
  var BANNER_ID = 'phenom-admin-guard';
  var originalFetch = window.fetch;
  if (typeof originalFetch !== 'function') return;

  function pathOf(input) {
    try {
      var url = typeof input === 'string' ? input : input && input.url;
      return new URL(url, window.location.href).pathname;
    } catch {
      return '';
    }
  }

  function hasAuthorization(input, init) {
    var headers = (init && init.headers) || (input && typeof input !== 'string' && input.headers);
    if (!headers) return false;
    if (typeof headers.get === 'function') return headers.get('Authorization') !== null;
    return Object.keys(headers).some(function (k) {
      return k.toLowerCase() === 'authorization';
    });
  }

  function signedInUser() {
    try {
      return window.localStorage.getItem('user_id');
    } catch {
      return null;
    }
  }

  /** The banner text for a refused admin API call, or null when there is nothing to explain. */
  function explain(status, body) {
    var json;
    try {
      json = JSON.parse(body);
    } catch {
      json = null;
    }
    var errcode = json && typeof json.errcode === 'string' ? json.errcode : null;
    var error = json && typeof json.error === 'string' ? json.error : null;
    if (status === 403 && errcode === 'M_FORBIDDEN' && /not a server admin/i.test(error || '')) {
      return {
        reload: false,
        text:
          (signedInUser() || 'This account') +
          ' is signed in, but is not a Synapse server admin. Server admin comes with the Cognito group chat-admin and is ' +
          'applied at the next entitlements sync: if you are in that group, sign in again after the sync; if not, ask a chat ' +
          'administrator to add you.',
      };
    }
    if (status === 403) {
      return { reload: false, text: 'The Synapse admin API refused this request: ' + (error || 'HTTP 403') + '.' };
    }
    if (status === 401 && !errcode) {
      return { reload: true, text: 'Your Phenom sign-in for the Admin UI has ended. Reload the page to sign in again.' };
    }
    if (status === 401) {
      return { reload: false, text: 'Your Synapse session has ended (' + (error || errcode) + '). Sign in again.' };
    }
    return null;
  }

  function show(message) {
    var old = document.getElementById(BANNER_ID);
    if (old && old.parentNode) old.parentNode.removeChild(old);
    var banner = document.createElement('div');
    banner.id = BANNER_ID;
    banner.setAttribute('role', 'alert');
    banner.style.cssText =
      'position:fixed;top:0;left:0;right:0;z-index:2147483647;padding:12px 48px 12px 16px;background:#b00020;' +
      'color:#fff;font:15px/1.4 sans-serif;box-shadow:0 2px 6px rgba(0,0,0,.3)';
    var text = document.createElement('span');
    text.textContent = message.text;
    banner.appendChild(text);
    if (message.reload) {
      var reload = document.createElement('button');
      reload.textContent = 'Reload';
      reload.style.cssText = 'margin-left:12px';
      reload.addEventListener('click', function () {
        window.location.reload();
      });
      banner.appendChild(reload);
    }
    var close = document.createElement('button');
    close.textContent = '\u00d7';
    close.setAttribute('aria-label', 'Dismiss');
    close.style.cssText = 'position:absolute;top:8px;right:12px;background:none;border:0;color:#fff;font-size:20px;cursor:pointer';
    close.addEventListener('click', function () {
      if (banner.parentNode) banner.parentNode.removeChild(banner);
    });
    banner.appendChild(close);
    (document.body || document.documentElement).appendChild(banner);
  }

  function clear() {
    var old = document.getElementById(BANNER_ID);
    if (old && old.parentNode) old.parentNode.removeChild(old);
  }

  window.fetch = function (input, init) {
    var isAdminApi = pathOf(input).indexOf(ADMIN_API) === 0;
    var authenticated = isAdminApi && hasAuthorization(input, init);
    return originalFetch.call(this, input, init).then(function (response) {
      if (!isAdminApi) return response;
      if (response.ok) {
        // Only a call with a token proves the account is an admin now (server_version answers anyone).
        if (authenticated) clear();
        return response;
      }
      if (response.status === 401 || response.status === 403) {
        response
          .clone()
          .text()
          .then(function (body) {
            var message = explain(response.status, body);
            if (message) show(message);
          })
          .catch(function () {
            /* the app reads the original response; a body we cannot read just means no banner */
          });
      }
      return response;
    });
  };
})();
