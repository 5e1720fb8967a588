// Small progressive enhancements; every page works without this file.
document.addEventListener("htmx:afterSwap", (event) => {
  // Move focus to a swapped-in region that asks for it, so keyboard and screen-reader
  // users notice the update. The event fires on the new content: with an outerHTML swap,
  // event.detail.target is the element that was replaced, no longer in the page.
  const swapped = event.target;
  const target = swapped.matches("[data-focus]") ? swapped : swapped.querySelector("[data-focus]");
  if (target) target.focus();
});
