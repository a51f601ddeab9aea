// The confirmation and revert pages: only the button spends the link's token.
'use strict';

(function () {
  const main = document.querySelector('main');
  const button = document.getElementById('go');
  const status = document.getElementById('status');
  // Held here: the address bar no longer shows it.
  const path = main.dataset.action + '/' + ua.takeTokenFromPath();
  button.addEventListener('click', async () => {
    button.disabled = true;
    ua.say(status, 'Working...');
    const res = await ua.api('GET', path);
    ua.say(status, res.msg, res.ok);
    status.focus();
    if (res.ok) {
      button.hidden = true;
      document.getElementById('next').hidden = false;
    } else {
      // A used, expired or unknown link stays so; no answer, a limit or an
      // outage is worth another press.
      button.disabled = !ua.retryable(res);
    }
  });
})();
