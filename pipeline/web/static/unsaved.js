/* Rundbrief: ask before leaving a page whose marked form has unsaved changes.
   Progressive enhancement: forms marked data-unsaved-warning work the same without it.
   data-unsaved-warning="dirty": the form holds unsaved text from the start. */
(function () {
  "use strict";
  var forms = Array.prototype.slice.call(document.querySelectorAll("form[data-unsaved-warning]"));
  if (!forms.length || !window.FormData || !window.URLSearchParams) {
    return;
  }
  function snapshot(form) {
    return new URLSearchParams(new FormData(form)).toString();
  }
  var initial = forms.map(function (form) {
    return form.getAttribute("data-unsaved-warning") === "dirty" ? null : snapshot(form);
  });
  var leavingBySubmit = false;
  forms.forEach(function (form) {
    form.addEventListener("submit", function () {
      leavingBySubmit = true;
    });
  });
  window.addEventListener("beforeunload", function (event) {
    if (leavingBySubmit) {
      return undefined;
    }
    var changed = forms.some(function (form, index) {
      return initial[index] === null || snapshot(form) !== initial[index];
    });
    if (!changed) {
      return undefined;
    }
    event.preventDefault();
    event.returnValue = "";
    return "";
  });
})();
