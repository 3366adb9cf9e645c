// Runs before the body renders, so CSS can style for JavaScript from the first paint (an
// external file: the Content Security Policy allows no inline script).
document.documentElement.classList.add("js");
