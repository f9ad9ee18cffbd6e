// Progressive enhancement for the admin UI; every page works without it.
// Copy buttons: <button data-copy="ELEMENT_ID" hidden> copies that element's text.
// Burst inputs: <fieldset data-burst-for="SELECT_ID"> hides its empty burst fields unless the
// select's chosen option (its data-algorithm, else its value) is gcra, the only algorithm with a
// burst. A burst already typed, or refused, stays visible so it can be seen and changed.
'use strict';

function showBurstOnlyForGcra(fieldset) {
  const select = document.getElementById(fieldset.getAttribute('data-burst-for'));
  if (!select) return;
  const update = () => {
    const option = select.selectedOptions[0];
    const gcra = (option && option.dataset.algorithm ? option.dataset.algorithm : select.value) === 'gcra';
    for (const field of fieldset.querySelectorAll('.burst-field')) {
      const input = field.querySelector('input');
      field.hidden = !gcra && input.value === '' && !field.classList.contains('has-error');
    }
  };
  select.addEventListener('change', update);
  update();
}

document.addEventListener('DOMContentLoaded', () => {
  for (const fieldset of document.querySelectorAll('fieldset[data-burst-for]')) showBurstOnlyForGcra(fieldset);

  for (const button of document.querySelectorAll('button[data-copy]')) {
    const target = document.getElementById(button.getAttribute('data-copy'));
    if (!target || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(target.textContent.trim());
        button.textContent = 'Copied';
      } catch {
        // Clipboard refused (permissions, insecure origin): select the text for a manual copy.
        const range = document.createRange();
        range.selectNodeContents(target);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        button.textContent = 'Press Ctrl+C';
      }
      setTimeout(() => {
        button.textContent = 'Copy';
      }, 2000);
    });
  }
});
