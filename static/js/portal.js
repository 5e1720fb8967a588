// Small progressive enhancements; every page works without this file.

// Every htmx request carries the page's CSRF token (every state change is a POST with CSRF;
// without htmx the forms post their own hidden field).
document.addEventListener("htmx:configRequest", (event) => {
  const token = document.querySelector('meta[name="csrf-token"]');
  if (token) event.detail.headers["X-CSRFToken"] = token.content;
});

document.addEventListener("htmx:afterSwap", (event) => {
  // Move focus to a swapped-in region that asks for it, so keyboard and screen-reader
  // users notice the update. The event fires on the new content: with an outerHTML swap,
  // event.detail.target is the element that was replaced, no longer in the page.
  const swapped = event.target;
  const target = swapped.matches("[data-focus]") ? swapped : swapped.querySelector("[data-focus]");
  if (target) target.focus();
});

// An image over the upload limit is refused here, beside its field, before the form is sent:
// the server would refuse the whole request, and what was typed in the form with it.
function fileFits(input) {
  const file = input.files && input.files[0];
  const tooLarge = Boolean(file && file.size > Number(input.dataset.maxBytes));
  const id = `${input.id}-size-error`;
  const described = (input.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && x !== id);
  const earlier = document.getElementById(id);
  earlier?.remove();
  if (tooLarge) {
    const note = document.createElement("small");
    note.id = id;
    note.className = "field-error";
    note.textContent = input.dataset.tooLarge;
    input.insertAdjacentElement("afterend", note);
    described.unshift(id);
    input.setAttribute("aria-invalid", "true");
  } else if (earlier) {
    input.removeAttribute("aria-invalid");
  }
  if (described.length) input.setAttribute("aria-describedby", described.join(" "));
  return !tooLarge;
}
document.addEventListener("change", (event) => {
  if (event.target.matches("input[type=file][data-max-bytes]")) fileFits(event.target);
});
document.addEventListener("submit", (event) => {
  const refused = [...event.target.querySelectorAll("input[type=file][data-max-bytes]")].filter((input) => !fileFits(input));
  if (refused.length) {
    event.preventDefault();
    refused[0].focus();
  }
});

// "Back to the form" on the too-large page: going back in history brings the form back with
// what was typed in it (following the link would load it empty).
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-back]");
  if (link && history.length > 1) {
    event.preventDefault();
    history.back();
  }
});
