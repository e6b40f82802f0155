// A double click sends one deploy (the server would refuse the second anyway): the button
// says what is happening and cannot be pressed twice.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("df-confirm-form");
  if (!form) { return; }
  form.addEventListener("submit", function () {
    var button = document.getElementById("df-confirm-deploy");
    if (button) { button.disabled = true; button.textContent = "Deploying…"; }
  });
});
