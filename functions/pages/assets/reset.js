// The reset page: the new password twice, sent with the link's token.
'use strict';

(function () {
  const form = document.getElementById('reset');
  // Held here: the address bar no longer shows it.
  const path = 'reset_password/' + ua.takeTokenFromPath();
  const matches = (f) => {
    if (f.elements.new_pwd.value !== f.elements.new_pwd_again.value) {
      ua.fieldError(f, 'new_pwd_again', 'The two passwords are not the same.');
      f.elements.new_pwd_again.focus();
      return false;
    }
    return true;
  };
  ua.onSubmit(form, 'POST', path, (res) => {
    if (res.ok) {
      for (const el of form.querySelectorAll('.field, button')) el.hidden = true;
      document.getElementById('next').hidden = false;
      form.querySelector('.status').focus();
    }
  }, matches);
})();
