// Small progressive enhancements; every page works without this file.
document.addEventListener("htmx:afterSwap", (event) => {
  // Move focus to a swapped-in region that asks for it, so keyboard and screen-reader
  // users notice the update.
  const target = event.detail.target.querySelector("[data-focus]");
  if (target) target.focus();
});
