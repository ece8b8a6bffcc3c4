// Progressive enhancement: a "Copy" button next to a read-only field (without script the field is selectable).
document.querySelectorAll("[data-copy-target]").forEach(function (button) {
  var field = document.getElementById(button.getAttribute("data-copy-target"));
  if (!field || !navigator.clipboard) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(field.value).then(function () {
      button.textContent = button.getAttribute("data-copied");
    });
  });
});
