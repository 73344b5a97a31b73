<?php
// Boots the demo application.
return true;
