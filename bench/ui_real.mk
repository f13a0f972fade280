# placeholder: filled when its module lands
