// The code page: "J'utilise un code de secours" switches the field from the phone's numeric
// keyboard to letters (recovery codes are letters and digits).
document.addEventListener('DOMContentLoaded', function () {
	var link = document.getElementById('verdon-recovery');
	var input = document.getElementById('verdon-code');
	if (!link || !input) return;
	link.addEventListener('click', function (e) {
		e.preventDefault();
		input.setAttribute('inputmode', 'text');
		input.setAttribute('autocomplete', 'off');
		input.setAttribute('autocapitalize', 'none');
		input.focus();
	});
});
